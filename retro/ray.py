"""retro on Ray: RLlib-ready envs, a vector env whose envs live on a cluster's nodes, a loopback cluster.

- :func:`make_env` is an env creator for ``ray.tune.register_env``: the one argument it needs is
  the game (``env_config={"game": "Pong-Atari2600"}``); its defaults are what RLlib's default
  models take (a ``Discrete`` action space, 84x84 grayscale frames, 4 of them stacked on the
  channel axis, as float32 in [0, 1]). Plain retro envs fail in RLlib: ``MultiBinary`` actions
  raise ``NotImplementedError: Unsupported action space`` in its model catalog, uint8
  observations reach the torch CNN as bytes (``Input type (unsigned char) and bias type (float)
  should be the same``), and neither a 210x160x3 screen nor a 2-D grayscale frame has a default
  CNN. An env that fails raises :class:`retro.RemoteEnvError` naming the env runner and sub-env.
- :func:`fail_fast` turns off RLlib's silent restarts of failed env runners, so a failing env
  stops training with its error instead of yielding iterations with no samples.
- :class:`RayVectorEnv` is a Gymnasium vector env whose envs live in Ray actors, one actor per
  node by default, each holding a :class:`retro.vector.RetroVectorEnv` of its share of the envs:
  a step is one call per actor, never one per env. A failing or dead actor is a
  :class:`retro.RemoteEnvError` naming the envs and the node.
- :class:`LoopbackCluster` starts a Ray cluster of several nodes on this machine's loopback
  addresses (``ray start`` processes it owns and stops), to try multi-node code on one machine.

``import retro`` never imports Ray, and neither does ``import retro.ray``: Ray is imported when
one of these is used.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from retro.enums import Actions, State
from retro.errors import ConfigurationError, RemoteEnvError

__all__ = ["make_env", "fail_fast", "RLlibEnv", "RayVectorEnv", "LoopbackCluster"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:  # pragma: no cover - only without the extra
        raise ImportError("retro.ray needs Ray: pip install 'retro[ray]' (ray==2.60.0 with RLlib's "
                          "dependencies and torch)") from e
    return ray


def _node_address() -> str:
    """The address of the Ray node this process runs on (the host name outside Ray)."""
    ray = _ray()
    if ray.is_initialized():
        return str(ray.util.get_node_ip_address())
    return socket.gethostname()


# -- RLlib ---------------------------------------------------------------------------------


class RLlibEnv(gymnasium.Wrapper):
    """A retro env as RLlib's default models take it (what :func:`make_env` returns).

    Agent steps of ``frameskip`` frames (rewards summed), max-pooled, grayscale, resized in C by
    :class:`retro.vector.Preprocessing`; the last ``framestack`` observations stacked on the
    channel axis; float32 in [0, 1] (``dtype="uint8"`` keeps bytes, for a connector of your own).
    Errors from the game are :class:`retro.RemoteEnvError` naming the env (``label``).
    """

    def __init__(self, env: gymnasium.Env, *, frameskip: int = 4, max_pool: bool = True, grayscale: bool = True,
                 resize: tuple[int, int] | None = (84, 84), framestack: int = 4, dtype: str = "float32",
                 max_episode_steps: int | None = None, label: str = "retro env") -> None:
        from retro.vector import Preprocessing

        if not isinstance(framestack, int) or framestack < 1:
            raise ConfigurationError(f"framestack must be an int >= 1, got {framestack!r}")
        if dtype not in ("float32", "uint8"):
            raise ConfigurationError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
        inner: gymnasium.Env = Preprocessing(env, frameskip, max_pool, grayscale, resize)
        if max_episode_steps is not None:
            inner = gymnasium.wrappers.TimeLimit(inner, max_episode_steps)
        super().__init__(inner)
        self.label = label
        shape = inner.observation_space.shape
        assert shape is not None
        self._channels = 1 if len(shape) == 2 else shape[2]
        self._dtype = np.dtype(dtype)
        self._scale = np.float32(1 / 255) if dtype == "float32" else None
        stacked = (shape[0], shape[1], self._channels * framestack)
        high = 1.0 if self._scale is not None else 255
        self.observation_space = spaces.Box(0, high, stacked, self._dtype)
        self._frames = np.zeros(stacked, self._dtype)

    def _push(self, obs: np.ndarray, fill: bool = False) -> np.ndarray:
        frame = obs.reshape(obs.shape[0], obs.shape[1], self._channels)
        if self._scale is not None:
            frame = frame * self._scale
        frames, c = self._frames, self._channels
        if fill:
            frames[:] = np.tile(frame, (1, 1, frames.shape[2] // c))
        else:
            frames[..., :-c] = frames[..., c:]
            frames[..., -c:] = frame
        return frames.copy()

    def _failed(self, what: str, e: Exception) -> RemoteEnvError:
        return RemoteEnvError(f"{self.label} failed in {what}: {type(e).__name__}: {e}", node=_node_address())

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode: the first frame repeated to fill the stack; a failure is a ``RemoteEnvError``."""
        try:
            obs, info = self.env.reset(**kwargs)
        except RemoteEnvError:
            raise
        except Exception as e:
            raise self._failed("reset", e) from e
        return self._push(obs, fill=True), info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        """One agent step (``frameskip`` frames); a failure is a ``RemoteEnvError`` naming the env."""
        try:
            obs, rew, terminated, truncated, info = self.env.step(action)
        except RemoteEnvError:
            raise
        except Exception as e:
            raise self._failed("step", e) from e
        return self._push(obs), rew, terminated, truncated, info


def make_env(config: Mapping[str, Any] | None = None, **kwargs: Any) -> RLlibEnv:
    """An env for RLlib: ``tune.register_env("retro", retro.ray.make_env)``.

    ``config`` (RLlib's ``env_config``, merged with ``kwargs``) needs only ``game``. Optional:
    ``frameskip`` (4), ``max_pool`` (True), ``grayscale`` (True), ``resize`` ((84, 84)),
    ``framestack`` (4), ``dtype`` ("float32"), ``max_episode_steps`` (None), and any argument of
    :func:`retro.make` (``state``, ``scenario``, ``players``, ``use_restricted_actions`` -
    ``retro.Actions.DISCRETE`` by default, since RLlib has no model for ``MultiBinary``).
    """
    import retro

    options = dict(config or {}, **kwargs)
    game = options.pop("game", None)
    if not isinstance(game, str):
        raise ConfigurationError('make_env needs the game: env_config={"game": "Pong-Atari2600"}')
    wrap = {key: options.pop(key) for key in ("frameskip", "max_pool", "grayscale", "resize", "framestack", "dtype",
                                              "max_episode_steps") if key in options}
    if "resize" in wrap and wrap["resize"] is not None:
        wrap["resize"] = tuple(wrap["resize"])
    options.setdefault("use_restricted_actions", Actions.DISCRETE)
    options["api"] = "gymnasium"
    worker = getattr(config, "worker_index", None)
    sub = getattr(config, "vector_index", None)
    where = f" (env runner {worker}, sub-env {sub})" if worker is not None else ""
    label = f"{game} env{where} in process {os.getpid()}"
    try:
        env = retro.make(game, **options)
    except Exception as e:
        raise RemoteEnvError(f"{label} could not be made on node {_node_address()}: {type(e).__name__}: {e}",
                             node=_node_address()) from e
    return RLlibEnv(env, label=label, **wrap)


def fail_fast(config: Any) -> Any:
    """``config`` (an RLlib ``AlgorithmConfig``) with failed env runners and envs never restarted.

    By default RLlib restarts an env runner whose env raised, logs the error, and carries on with
    fewer (or no) samples. With this, ``algo.train()`` raises instead: for a remote env runner,
    RLlib ends the runner's process on any error, so the driver gets Ray's ``ActorDiedError``
    naming the runner, and the env's own error (a :class:`retro.RemoteEnvError` naming the game,
    env runner and sub-env) is in the runner's log, which Ray prints on the driver by default.
    """
    return config.fault_tolerance(restart_failed_env_runners=False, ignore_env_runner_failures=False,
                                  restart_failed_sub_environments=False)


# -- the vector env on a cluster -------------------------------------------------------------


def _span(indices: Sequence[int]) -> str:
    if not indices:
        return "envs"
    if len(indices) == 1:
        return f"env {indices[0]}"
    if list(indices) == list(range(indices[0], indices[-1] + 1)):
        return f"envs {indices[0]}-{indices[-1]}"
    return "envs " + ", ".join(map(str, indices))


class _EnvHost:
    """What a Ray actor of :class:`RayVectorEnv` holds: a ``RetroVectorEnv`` of envs ``first..first+count-1``."""

    def __init__(self, game: str, first: int, count: int, kwargs: dict[str, Any]) -> None:
        self.game, self.first, self.count = game, first, count
        self.node = _node_address()
        self.env: Any = None
        self.error: RemoteEnvError | None = None
        try:
            from retro.vector import RetroVectorEnv

            if isinstance(kwargs.get("record"), str):
                os.makedirs(kwargs["record"], exist_ok=True)
            self.env = RetroVectorEnv(game, count, **kwargs)
        except Exception as e:
            self.error = self._failure("start", e)

    def _failure(self, what: str, e: Exception, actions: Any = None) -> RemoteEnvError:
        local = list(range(self.count))
        envs = getattr(self.env, "envs", None) or []
        if actions is not None and envs:
            bad = []
            for i, env in enumerate(envs):
                try:
                    env.session.decode(actions[i])
                except Exception:
                    bad.append(i)
            local = bad or local
        indices = [self.first + i for i in local]
        return RemoteEnvError(
            f"{self.game} {_span(indices)} on node {self.node} (Ray actor, process {os.getpid()}) failed in "
            f"{what}: {type(e).__name__}: {e}", indices, self.node)

    def _run(self, what: str, fn: Any, *args: Any, actions: Any = None, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise self._failure(what, e, actions) from e

    def describe(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        ray = _ray()
        return {"node": self.node, "node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid(),
                "single_observation_space": self.env.single_observation_space,
                "single_action_space": self.env.single_action_space}

    def reset(self, seeds: list[int | None], options: dict[str, Any] | None) -> Any:
        return self._run("reset", self.env.reset, seed=seeds, options=options)

    def step(self, actions: Any) -> Any:
        return self._run("step", self.env.step, actions, actions=actions)

    def get_attr(self, name: str) -> Any:
        return self._run(f"get_attr({name!r})", self.env.get_attr, name)

    def set_attr(self, name: str, values: list[Any]) -> None:
        self._run(f"set_attr({name!r})", self.env.set_attr, name, values)

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._run(f"call({name!r})", self.env.call, name, *args, **kwargs)

    def render(self) -> Any:
        return self._run("render", self.env.render)

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


def _merge_infos(chunks: Sequence[tuple[dict[str, Any], int]]) -> dict[str, Any]:
    """Gymnasium's batched infos of consecutive groups of envs, as one batch."""
    keys: list[str] = []
    for info, _ in chunks:
        for key in info:
            if key not in keys and not (key.startswith("_") and key[1:] in info):
                keys.append(key)
    merged: dict[str, Any] = {}
    for key in keys:
        present = [info[key] for info, _ in chunks if key in info]
        if all(isinstance(v, dict) for v in present):
            merged[key] = _merge_infos([(info.get(key, {}), n) for info, n in chunks])
            continue
        like = np.asarray(present[0])
        parts, masks = [], []
        for info, n in chunks:
            if key in info:
                parts.append(np.asarray(info[key]))
                masks.append(np.asarray(info.get("_" + key, np.ones(n, bool))))
            else:
                parts.append(np.zeros((n, *like.shape[1:]), like.dtype))
                masks.append(np.zeros(n, bool))
        merged[key] = np.concatenate(parts)
        merged["_" + key] = np.concatenate(masks)
    return merged


class RayVectorEnv(VectorEnv):
    """``num_envs`` copies of a game on a Ray cluster, with Gymnasium's vector API.

    The envs are split into ``num_actors`` consecutive groups (default: one per node that has
    ``num_cpus_per_actor`` CPUs, at most ``num_envs``); each group is a
    :class:`retro.vector.RetroVectorEnv` in a Ray actor placed on its node, so a step is one call
    per actor and the envs of a node step together on its cores. Results are gathered into one
    batch in env order, the same as a local ``RetroVectorEnv`` gives for the same seeds and actions
    (``reset(seed=s)`` seeds env ``i`` with ``s + i`` wherever it runs).

    Args:
        game: the game id.
        num_envs: how many envs in all.
        num_actors: how many actors (groups of envs); actor ``k`` goes to node ``k % len(nodes)``.
        nodes: the nodes to use, by address or Ray node id (default: every alive node with the CPUs).
        num_cpus_per_actor: the CPUs each actor reserves (and, by default, its step threads).
        timeout: seconds to wait for the actors to start and for any call to answer (None: forever).
        state: one start state for every env.
        states: one start state per env.
        **kwargs: the other arguments of ``RetroVectorEnv`` (``frameskip``, ``max_pool``,
            ``grayscale``, ``resize``, ``max_episode_steps``, ``record``, any ``RetroEnv``
            argument) go to every group; ``record=FOLDER`` records on each actor's node into
            ``FOLDER/envs<a>-<b>`` (movies numbered by the env's place in its group).

    Connect to the cluster first (``ray.init(address=...)``); without that, ``ray.init()`` starts
    a local one. An env that fails, or an actor that dies, raises :class:`retro.RemoteEnvError`
    naming the envs and the node.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}

    def __init__(self, game: str, num_envs: int, *, num_actors: int | None = None,
                 nodes: Sequence[str] | None = None, num_cpus_per_actor: float = 1.0,
                 timeout: float | None = 120.0, state: State | str | None = State.DEFAULT,
                 states: Sequence[State | str | None] | None = None, **kwargs: Any) -> None:
        ray = _ray()
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ConfigurationError(f"num_envs must be an int >= 1, got {num_envs!r}")
        if states is not None and len(states) != num_envs:
            raise ConfigurationError(f"states has {len(states)} entries for {num_envs} envs")
        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f"timeout must be positive or None, got {timeout!r}")
        self._actors: list[Any] = []
        self.game = game
        self.num_envs = num_envs
        self.timeout = timeout
        self.render_mode = kwargs.get("render_mode")
        if not ray.is_initialized():
            ray.init()
        placed = self._pick_nodes(nodes, num_cpus_per_actor)
        count = num_actors if num_actors is not None else min(len(placed), num_envs)
        if not isinstance(count, int) or not 1 <= count <= num_envs:
            raise ConfigurationError(f"num_actors must be an int from 1 to num_envs ({num_envs}), got {num_actors!r}")
        sizes = [num_envs // count + (1 if k < num_envs % count else 0) for k in range(count)]
        self.actor_envs: list[range] = []
        first = 0
        for size in sizes:
            self.actor_envs.append(range(first, first + size))
            first += size
        record = kwargs.pop("record", None)
        kwargs.setdefault("num_threads", max(1, int(num_cpus_per_actor)))

        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        host = ray.remote(_EnvHost)
        for k, envs in enumerate(self.actor_envs):
            options = dict(kwargs)
            if states is not None:
                options["states"] = list(states[envs.start:envs.stop])
            else:
                options["state"] = state
            if record is not None and record is not False:
                folder = os.getcwd() if record is True else os.fspath(record)
                options["record"] = os.path.join(folder, f"envs{envs.start}-{envs.stop - 1}")
            node_id = placed[k % len(placed)]["NodeID"]
            self._actors.append(host.options(
                num_cpus=num_cpus_per_actor, max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote(game, envs.start, len(envs), options))
        self._nodes = [str(node["NodeManagerAddress"]) for node in (placed[k % len(placed)] for k in range(count))]
        try:
            described = self._gather([actor.describe.remote() for actor in self._actors], "start")
        except BaseException:
            self._kill()
            raise
        self.actor_pids = [d["pid"] for d in described]
        self.single_observation_space = described[0]["single_observation_space"]
        self.single_action_space = described[0]["single_action_space"]
        from gymnasium.vector.utils import batch_space

        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    @staticmethod
    def _pick_nodes(nodes: Sequence[str] | None, cpus: float) -> list[dict[str, Any]]:
        ray = _ray()
        alive = [n for n in ray.nodes() if n.get("Alive")]
        # the head first, then by address: the same cluster gives the same placement
        alive.sort(key=lambda n: ("node:__internal_head__" not in n["Resources"], n["NodeManagerAddress"], n["NodeID"]))
        if nodes is not None:
            wanted = list(nodes)
            picked: list[dict[str, Any]] = []
            for name in wanted:
                match = [n for n in alive if name in (n["NodeID"], n["NodeManagerAddress"])]
                if not match:
                    known = [n["NodeManagerAddress"] for n in alive]
                    raise ConfigurationError(f"no alive Ray node {name!r}; the cluster's nodes are {known}")
                picked.extend(m for m in match if m not in picked)
            alive = picked
        usable = [n for n in alive if n["Resources"].get("CPU", 0) >= cpus]
        if not usable:
            have = {n["NodeManagerAddress"]: n["Resources"].get("CPU", 0) for n in alive}
            raise ConfigurationError(f"no Ray node has num_cpus_per_actor={cpus} CPUs (nodes and their CPUs: {have})")
        return usable

    # -- calls to the actors -------------------------------------------------------------------

    def _gather(self, refs: list[Any], what: str) -> list[Any]:
        """The actors' answers, in order; any failure is a ``RemoteEnvError`` naming the envs and nodes."""
        ray = _ray()
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out: list[Any] = []
        failures: list[tuple[RemoteEnvError, BaseException]] = []
        for k, ref in enumerate(refs):
            envs, node = list(self.actor_envs[k]), self._nodes[k]
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                out.append(ray.get(ref, timeout=left))
                continue
            except RayTaskError as e:
                cause = e.cause
                if isinstance(cause, RemoteEnvError):
                    err = RemoteEnvError(str(cause), cause.env_indices, cause.node)
                else:
                    err = RemoteEnvError(f"{self.game} {_span(envs)} on node {node} failed in {what}: "
                                         f"{type(cause).__name__}: {cause}", envs, node)
                failures.append((err, e))
            except RayActorError as e:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                failures.append((RemoteEnvError(
                    f"the Ray actor of {self.game} {_span(envs)} on node {node} died or cannot be reached "
                    f"({what}): {type(e).__name__}: {reason}", envs, node), e))
            except GetTimeoutError as e:
                hint = (" (is there a node with the CPUs it asks for? `ray status` shows the cluster)"
                        if what == "start" else "")
                failures.append((RemoteEnvError(
                    f"the Ray actor of {self.game} {_span(envs)} on node {node} did not answer within "
                    f"{self.timeout} s ({what}){hint}", envs, node), e))
            out.append(None)
        if failures:
            first, cause = failures[0]
            if len(failures) > 1:
                indices = [i for err, _ in failures for i in err.env_indices]
                first = RemoteEnvError("; ".join(str(err) for err, _ in failures), indices, first.node)
            raise first from cause
        return out

    def _split(self, values: Any) -> list[Any]:
        return [values[envs.start:envs.stop] for envs in self.actor_envs]

    # -- Gymnasium's vector API ------------------------------------------------------------------

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the envs on every node: an int seed gives env ``i`` the seed ``seed + i``.

        ``options={'reset_mask': mask}`` resets only the envs the mask selects.
        """
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ConfigurationError(f"reset(seed=...) needs {self.num_envs} seeds, got {len(seeds)}")
        mask = (options or {}).get("reset_mask")
        calls = []
        for k, part in enumerate(self._split(seeds)):
            opts = dict(options or {})
            if mask is not None:
                opts["reset_mask"] = np.asarray(mask)[self.actor_envs[k].start:self.actor_envs[k].stop]
            calls.append(self._actors[k].reset.remote(part, opts or None))
        results = self._gather(calls, "reset")
        obs = np.concatenate([r[0] for r in results])
        return obs, _merge_infos([(r[1], len(envs)) for r, envs in zip(results, self.actor_envs)])

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One step of every env, one call per node; returns the batch in env order."""
        if len(actions) != self.num_envs:
            raise ConfigurationError(f"step needs {self.num_envs} actions, got {len(actions)}")
        calls = [actor.step.remote(part) for actor, part in zip(self._actors, self._split(actions))]
        results = self._gather(calls, "step")
        obs, rewards, terminated, truncated = (np.concatenate([r[j] for r in results]) for j in range(4))
        infos = _merge_infos([(r[4], len(envs)) for r, envs in zip(results, self.actor_envs)])
        return obs, rewards, terminated, truncated, infos

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Each env's attribute ``name``."""
        parts = self._gather([actor.get_attr.remote(name) for actor in self._actors], f"get_attr({name!r})")
        return tuple(value for part in parts for value in part)

    def set_attr(self, name: str, values: Any) -> None:
        """Set each env's attribute ``name``: one value for all, or a list or tuple with one per env."""
        if not isinstance(values, (list, tuple)):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ConfigurationError(f"set_attr({name!r}) needs {self.num_envs} values, got {len(values)}")
        parts = self._split(values)
        self._gather([actor.set_attr.remote(name, list(part)) for actor, part in zip(self._actors, parts)],
                     f"set_attr({name!r})")

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call each env's method ``name`` (or get its attribute) on its node."""
        parts = self._gather([actor.call.remote(name, args, kwargs) for actor in self._actors], f"call({name!r})")
        return tuple(value for part in parts for value in part)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Each env's screen with ``render_mode="rgb_array"``; None otherwise."""
        if self.render_mode != "rgb_array":
            return None
        parts = self._gather([actor.render.remote() for actor in self._actors], "render")
        return tuple(frame for part in parts for frame in part)

    @property
    def nodes(self) -> list[str]:
        """The address of the node of each actor (``actor_envs[k]`` run on ``nodes[k]``)."""
        return list(self._nodes)

    def _kill(self) -> None:
        ray = _ray()
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self._actors = []

    def close_extras(self, **kwargs: Any) -> None:
        """End the actors (Gymnasium's ``close()`` calls this)."""
        if not self._actors:
            return
        ray = _ray()
        if ray.is_initialized():
            try:
                ray.get([actor.close.remote() for actor in self._actors], timeout=10)
            except Exception:
                pass  # a dead actor has nothing left to close
            self._kill()


# -- a cluster on loopback ---------------------------------------------------------------------------


def _reload_auth_settings() -> None:
    """Make this process read ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN`` again (Ray reads them once, at import)."""
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LoopbackCluster:
    """A Ray cluster of ``nodes`` nodes on this machine, on loopback addresses; a context manager.

    Node ``i`` is a ``ray start --block`` process (the head first, then nodes joining it) on
    ``127.0.0.<i + 2>``: Ray replaces 127.0.0.1 by the machine's network address, the rest of
    127.0.0.0/8 stays on loopback. Each node gets ``num_cpus`` CPUs and ``object_store_memory``
    bytes, no dashboard, no usage stats, and a fresh random token (Ray's token authentication),
    which this process uses while connected. ``start()`` connects this process (``ray.init``);
    ``stop()`` disconnects it and ends exactly the processes it started (their process groups),
    within ``stop_timeout`` seconds.
    """

    def __init__(self, nodes: int = 2, num_cpus: int = 1, object_store_memory: int = 100 * 2**20,
                 start_timeout: float = 90.0, stop_timeout: float = 20.0, init_kwargs: dict[str, Any] | None = None
                 ) -> None:
        if not isinstance(nodes, int) or nodes < 1 or nodes > 250:
            raise ConfigurationError(f"nodes must be an int from 1 to 250, got {nodes!r}")
        self.num_nodes = nodes
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.init_kwargs = dict(init_kwargs or {})
        self.node_addresses = [f"127.0.0.{i + 2}" for i in range(nodes)]
        self.address: str | None = None
        self.processes: list[subprocess.Popen[bytes]] = []
        self._temp: str | None = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> "LoopbackCluster":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def log_dir(self) -> str | None:
        """The folder of the cluster's logs (the workers' ``worker-*.err`` hold their tracebacks)."""
        return None if self._temp is None else os.path.join(self._temp, "session_latest", "logs")

    def _log(self, i: int) -> str:
        assert self._temp is not None
        return os.path.join(self._temp, f"node{i}.log")

    def _spawn(self, i: int, args: list[str], env: dict[str, str]) -> None:
        ip = self.node_addresses[i]
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block", f"--node-ip-address={ip}",
               f"--num-cpus={self.num_cpus}", f"--object-store-memory={self.object_store_memory}",
               "--disable-usage-stats", "--include-log-monitor=false",
               f"--dashboard-agent-listen-port={_free_port(ip)}", *args]
        with open(self._log(i), "wb") as log:
            self.processes.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                                   env=env, start_new_session=True))

    def _check_alive(self) -> None:
        for i, p in enumerate(self.processes):
            if p.poll() is not None:
                with open(self._log(i), "rb") as f:
                    tail = f.read()[-2000:].decode(errors="replace")
                raise RemoteEnvError(f"Ray node {self.node_addresses[i]} exited with code {p.returncode} while "
                                     f"starting; its log ends with:\n{tail}", node=self.node_addresses[i])

    def start(self) -> str:
        """Start the nodes, connect this process, wait until every node is up; the head's address."""
        ray = _ray()
        if self.processes:
            raise ConfigurationError("this LoopbackCluster is already started")
        if ray.is_initialized():
            raise ConfigurationError("this process is already connected to Ray; call ray.shutdown() first")
        deadline = time.monotonic() + self.start_timeout
        self._temp = tempfile.mkdtemp(prefix="retro-ray-")
        token = secrets.token_hex(32)
        values = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"}
        env = dict(os.environ, **values, RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0")
        try:
            head = self.node_addresses[0]
            port = _free_port(head)
            self._spawn(0, ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={self._temp}"], env)
            while True:
                self._check_alive()
                try:
                    socket.create_connection((head, port), 1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RemoteEnvError(f"the Ray head on {head}:{port} did not start within "
                                             f"{self.start_timeout} s", node=head) from None
                    time.sleep(0.2)
            self.address = f"{head}:{port}"
            for i in range(1, self.num_nodes):
                self._spawn(i, [f"--address={self.address}"], env)
            self._saved_env = {key: os.environ.get(key) for key in values}
            os.environ.update(values)
            _reload_auth_settings()
            kwargs: dict[str, Any] = {"logging_level": logging.WARNING}
            kwargs.update(self.init_kwargs)
            ray.init(address=self.address, _node_ip_address=head, **kwargs)
            while sum(1 for n in ray.nodes() if n.get("Alive")) < self.num_nodes:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RemoteEnvError(f"not all {self.num_nodes} Ray nodes joined within {self.start_timeout} s",
                                         node=head)
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        return self.address

    def kill(self) -> None:
        """End the nodes' processes at once (SIGKILL to their process groups); safe from any thread.

        A watchdog's way out: calls to the cluster then fail instead of waiting. ``stop()`` still
        cleans up afterwards.
        """
        for p in self.processes:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Disconnect this process and end the nodes' processes (SIGTERM, then SIGKILL); idempotent."""
        ray = _ray()
        if ray.is_initialized():
            ray.shutdown()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if self._saved_env:
            _reload_auth_settings()
        self._saved_env = {}
        for p in reversed(self.processes):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.stop_timeout
        for p in reversed(self.processes):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # the node's own processes (raylet, GCS, workers) share its group: end whatever is left
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.processes = []
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
        self.address = None
