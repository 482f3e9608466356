"""``stable_retro.examples``: the same examples as :mod:`retro.examples` (``python3 -m stable_retro.examples.NAME``)."""
