"""Sphinx configuration: Markdown pages (MyST) and an autodoc/numpydoc API reference.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``;
CI treats every warning as an error. Nothing here needs a network connection.
"""

import skprune

project = "skprune"
author = "skprune developers"
copyright = "skprune developers"
release = skprune.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: anchors for headings down to level 3, so `page.md#heading` links resolve.
myst_heading_anchors = 3

# autodoc: members in source order; a module shows only the names in its __all__.
# Classes also show the methods they inherit from skprune classes (every scorer
# shows BaseScorer's fit/transform), but not the ones scikit-learn, skorch,
# torch or Python provide: see _skip_foreign_members.
autodoc_default_options = {"member-order": "bysource", "inherited-members": True}
autodoc_typehints = "none"  # numpydoc docstrings already state the types

# numpydoc: methods are documented by autodoc's :members:, not by numpydoc's
# autosummary tables (which would need stub pages and warn without them).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"skprune {release}"
html_static_path = []


def _defining_module(obj):
    """Module that defines a class member, seen through properties and class/static methods."""
    for attribute in ("fget", "__func__"):
        obj = getattr(obj, attribute, obj)
    return getattr(obj, "__module__", None)


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out class members defined outside skprune (scikit-learn's get_params,
    set_output and set_*_request, torch's nn.Module methods, tuple.count ...):
    their docstrings use their own projects' cross-references, and they are
    documented there."""
    if what == "class":
        module = _defining_module(obj)
        if module is None and callable(obj):  # builtins such as tuple.index
            return True
        if module is not None and module.split(".")[0] != "skprune":
            return True
    return None  # let autodoc decide


def _drop_type_docstrings(app, what, name, obj, options, lines):
    """A constant without a ``#:`` comment would show its type's docstring (tuple's); drop it."""
    if what == "data" and lines and obj.__doc__ == type(obj).__doc__:
        lines.clear()


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _drop_type_docstrings)
