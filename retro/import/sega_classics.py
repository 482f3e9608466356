"""``python3 -m retro.import.sega_classics [FOLDER]``: the same as :mod:`retro.scripts.import_sega_classics`."""

from retro.scripts.import_sega_classics import main

if __name__ == "__main__":
    raise SystemExit(main())
