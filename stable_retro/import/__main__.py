"""Runs ``retro import`` (:func:`retro.scripts.import_path.main`) as ``python3 -m stable_retro.import``."""

import sys

from retro.scripts.import_path import main

if __name__ == "__main__":
    sys.exit(main())
