"""``python -m movecheck``: the same command line as the ``movecheck`` script."""

from movecheck.cli import main

raise SystemExit(main())
