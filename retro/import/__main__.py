"""Entry point of ``python3 -m retro.import``."""

import sys

from retro.scripts.import_path import main

if __name__ == "__main__":
    sys.exit(main())
