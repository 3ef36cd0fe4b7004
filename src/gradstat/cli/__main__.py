"""``python -m gradstat.cli``: the same as the ``gradstat`` command."""

from gradstat.cli import main

raise SystemExit(main())
