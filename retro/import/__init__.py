"""The package behind ``retro import PATH...``: import ROMs of known games (see :mod:`retro.scripts.import_path`).

``import`` is a Python keyword, so this package holds no code of its own: its
``__main__`` runs :func:`retro.scripts.import_path.main`.
"""
