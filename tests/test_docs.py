"""The code of the documentation's worked examples runs as written."""

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("page", ["extending.md"])
def test_the_pages_python_blocks_run(page):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)
    assert blocks, f"{page} has no python block"
    namespace = {}
    for block in blocks:  # one namespace: later blocks use earlier ones, as a reader would
        exec(compile(block, f"{page}", "exec"), namespace)
