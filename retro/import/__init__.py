"""``python3 -m retro.import PATH...``: import ROMs of known games (see :mod:`retro.scripts.import_path`).

``import`` is a Python keyword, so this package holds no code of its own:
``python3 -m retro.import`` runs :func:`retro.scripts.import_path.main`.
"""
