"""``python -m dezero.cuda``: print the GPU environment report (see ``_report``)."""

import sys

from dezero.cuda._report import main

if __name__ == "__main__":
    sys.exit(main())
