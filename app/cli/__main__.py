"""``python -m app.cli``: the ``redflags`` command without the installed script."""

import sys

from app.cli.main import main

sys.exit(main())
