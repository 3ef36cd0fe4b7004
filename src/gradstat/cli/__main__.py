"""``python -m gradstat.cli``: the same as the ``gradstat`` command."""

from gradstat.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
