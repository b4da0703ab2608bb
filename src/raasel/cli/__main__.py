"""``python -m raasel.cli COMMAND``: the same as the ``raasel`` entry point."""

from raasel.cli import app

app()
