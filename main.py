"""ConvScope: `python main.py` opens the window on the demo; subcommands run headless."""

from __future__ import annotations

import sys

from cli.app import main

if __name__ == "__main__":
    sys.exit(main())
