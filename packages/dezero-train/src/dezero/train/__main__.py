"""``python -m dezero.train``: the same as the ``dezero-train`` command."""

import sys

from dezero.train.cli import main

sys.exit(main())
