"""``python -m minitorch_cnn.explore``."""

import sys

from .command import main

sys.exit(main())
