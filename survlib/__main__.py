"""``python -m survlib`` is the same as the ``survlib`` command."""

import sys

from survlib.cli import main

sys.exit(main())
