"""Fuzzing retro's parsers: every hostile input must give a typed error, never a crash or a hang.

Kinds of input (``KINDS``): ``movies`` (.bk2 in both dialects, .fm2, read
and played back), ``integrations`` (data.json, scenario.json,
metadata.json, Lua scripts, rom.sha and states of a game, through
``retro.make`` and ``retro info``), ``lua`` (scripts run by a scenario),
``zips`` (what ``retro import`` walks), ``cli`` (arguments of ``python3 -m
retro``) and ``states`` (save states given to a core).

Each case runs in a worker process (:mod:`tests.fuzz.harness`) with a time
limit and an address-space limit: a worker that dies is a crash, one that
does not answer in time is a hang, an exception that is not a
:class:`retro.RetroError` is untyped. The corpus of known hostile inputs
(:mod:`tests.fuzz.corpus`) is built by code and runs first; mutations of
valid seeds (:mod:`tests.fuzz.mutate`) follow.

``pytest -m fuzz`` runs the corpus and a small, fixed budget of mutations
(part of the normal test run); ``python3 -m tests.fuzz --kind movies
--cases 1500`` runs a campaign and prints its counts.
"""
