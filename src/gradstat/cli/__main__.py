"""``python -m gradstat.cli``: the ``gradstat`` command."""

from gradstat.cli import main

raise SystemExit(main())
