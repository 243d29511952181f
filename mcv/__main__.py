"""``python -m mcv ...`` is the ``mcv`` command."""

from mcv.cli import main

raise SystemExit(main())
