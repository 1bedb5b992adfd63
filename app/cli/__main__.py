"""``python -m app.cli``: the ``redflags`` command without the installed script."""

from app.cli.main import run

run()
