"""``python -m emocap``: the same as the ``emocap`` console script."""
from emocap.cli import entry

entry()
