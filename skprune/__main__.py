"""``python -m skprune``: the ``skprune`` command line (see :mod:`skprune.cli`)."""

if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main())
