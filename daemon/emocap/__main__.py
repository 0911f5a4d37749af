"""``python -m emocap``: the same as the ``emocap`` console script."""
import sys

from emocap.cli import main

sys.exit(main())
