"""Runs ``retro import`` (:func:`retro.scripts.import_path.main`) when this package is run as a module."""

import sys

from retro.scripts.import_path import main

if __name__ == "__main__":
    sys.exit(main())
