"""``python -m minitorch_cnn.compress``: see ``cli.py``."""

import sys

from .cli import main

sys.exit(main())
