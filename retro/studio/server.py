"""Retro Studio's web server (aiohttp): the page, its files, and one WebSocket per browser tab.

Every request and WebSocket must carry the server's token (``?token=`` in
the URL, or the ``X-Retro-Token`` header): without it the answer is 403.
Each WebSocket plays its own :class:`~retro.studio.game.StudioGame` (its own
emulator and thread), so two tabs on one game never share a session; their
file writes meet only in the game's :class:`~retro.studio.workspace.Workspace`,
which serialises them.

WebSocket protocol: the page sends JSON ``{"id": n, "cmd": name, "args": {...}}``
and gets ``{"type": "reply", "id": n, "ok": true, "result": ...}`` or
``{"type": "reply", "id": n, "ok": false, "error": "..."}``; ``{"cmd": "input",
"mask": m}`` sets the held buttons without a reply. The server sends frames
as binary messages (see :mod:`retro.studio.game`) and ``status``,
``export`` and ``hello`` JSON messages.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import tempfile
from importlib import resources
from typing import Any, Awaitable, Callable

import numpy as np
from aiohttp import WSMsgType, web

from retro.data import list_games, Integrations
from retro.errors import RetroError
from retro.studio.game import StudioGame
from retro.studio.workspace import (
    MAX_JSON_BYTES, MAX_UPLOAD_BYTES, ContentTooLarge, StudioPathError, Workspace, create_integration, safe_name,
)

__all__ = ["make_app", "serve", "TOKEN_HEADER", "MAX_GAMES"]

TOKEN_HEADER = "X-Retro-Token"
#: Games (tabs) played at once by one server.
MAX_GAMES = 8
_STATIC = ("index.html", "studio.js", "studio.css")
_DOWNLOADS = (".mp4", ".bk2", ".state", ".json")
_COMMANDS = {
    "pause": "pause", "step": "step", "speed": "set_speed", "reset": "reset",
    "load_state": "load_state", "save_state": "save_state", "default_state": "set_default_state",
    "search_start": "search_start", "search_value": "search_value", "search_relation": "search_relation",
    "candidates": "candidates", "watch": "watch", "set_variable": "set_variable",
    "remove_variable": "remove_variable", "scenario": "scenario", "validate_scenario": "validate_scenario",
    "save_scenario": "save_scenario", "record_start": "record_start", "record_stop": "record_stop",
    "open_movie": "open_movie", "seek": "seek", "play_movie": "play_movie", "close_movie": "close_movie",
    "export_movie": "export_movie", "files": "files", "describe": "describe", "status": "status",
}
log = logging.getLogger("retro.studio")
_USER_ERRORS = (RetroError, OSError, ValueError, KeyError, TypeError)


def _token_of(request: web.Request) -> str:
    return request.query.get("token") or request.headers.get(TOKEN_HEADER) or ""


def make_app(token: str, root: str, game: str | None = None, state: str | None = None) -> web.Application:
    """The studio's application: ``root`` is the custom integrations folder it writes to."""

    @web.middleware
    async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        if not hmac.compare_digest(_token_of(request).encode(), token.encode()):
            return web.Response(status=403, text="403: this page needs the token printed by `retro studio`\n")
        return await handler(request)

    app = web.Application(middlewares=[guard], client_max_size=MAX_UPLOAD_BYTES)
    app["games"] = set()

    async def page(request: web.Request) -> web.Response:
        name = request.match_info.get("name", "index.html")
        if name not in _STATIC:
            raise web.HTTPNotFound()
        text = resources.files("retro.studio").joinpath("static").joinpath(name).read_text(encoding="utf-8")
        kind = {"html": "text/html", "js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
        return web.Response(text=text, content_type=kind, headers={"Cache-Control": "no-store"})

    async def config(request: web.Request) -> web.Response:
        return web.json_response({"game": game, "state": state, "root": root})

    async def games(request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(list_games, Integrations.ALL))

    async def download(request: web.Request) -> web.StreamResponse:
        try:
            name = request.query["name"]
            suffix = os.path.splitext(name)[1]
            if suffix not in _DOWNLOADS:
                raise StudioPathError(f"only {', '.join(_DOWNLOADS)} files can be downloaded")
            path = Workspace(request.query["game"], root).path(name, suffix)
        except (KeyError, StudioPathError) as e:
            return web.json_response({"error": str(e)}, status=400)
        if not os.path.isfile(path):
            return web.json_response({"error": f"no file {name}"}, status=404)
        return web.FileResponse(path)

    async def upload_movie(request: web.Request) -> web.Response:
        async def work() -> dict[str, Any]:
            ws = Workspace(request.query["game"], root)
            name = safe_name(request.query["name"], ".bk2")
            body = await _body(request)
            return {"path": await asyncio.to_thread(_store_movie, ws, name, body)}
        return await _answer_upload(work())

    async def new_integration(request: web.Request) -> web.Response:
        async def work() -> dict[str, Any]:
            filename = request.query["filename"]
            ext = os.path.splitext(filename)[1].lower()
            if not ext or not ext[1:].isalnum():
                raise StudioPathError(f"{filename!r}: a ROM file name ends in its system's extension")
            body = await _body(request)
            return {"game": await asyncio.to_thread(_new_game, body, ext, root, request.query.get("name") or None)}
        return await _answer_upload(work())

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_JSON_BYTES, heartbeat=30, compress=False)
        await ws.prepare(request)
        await _play(ws, request, app, root)
        return ws

    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", page)
    app.router.add_get("/api/config", config)
    app.router.add_get("/api/games", games)
    app.router.add_get("/api/file", download)
    app.router.add_post("/api/movie", upload_movie)
    app.router.add_post("/api/new", new_integration)
    app.router.add_get("/ws", socket)
    return app


async def _answer_upload(work: Awaitable[dict[str, Any]]) -> web.Response:
    """An upload's JSON answer: 413 for one too large, 400 with the reason for anything wrong with it."""
    try:
        return web.json_response(await work)
    except (web.HTTPRequestEntityTooLarge, ContentTooLarge) as e:
        return web.json_response({"error": f"larger than {MAX_UPLOAD_BYTES} bytes: {e}"}, status=413)
    except _USER_ERRORS as e:
        return web.json_response({"error": str(e)}, status=400)


async def _body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        raise ContentTooLarge(f"the upload has {request.content_length} bytes")
    return await request.read()


def _store_movie(ws: Workspace, name: str, body: bytes) -> str:
    from retro.movie import Movie

    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "upload.bk2")
        with open(probe, "wb") as f:
            f.write(body)
        Movie(probe)  # MovieFormatError for anything that is not a movie
    return ws.write(name, ".bk2", body)


def _new_game(body: bytes, ext: str, root: str, name: str | None) -> str:
    if len(body) > MAX_UPLOAD_BYTES:
        raise ContentTooLarge(f"the ROM has {len(body)} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        rom = os.path.join(tmp, "rom" + ext)
        with open(rom, "wb") as f:
            f.write(body)
        return create_integration(rom, root, name or "Untitled")


async def _play(ws: web.WebSocketResponse, request: web.Request, app: web.Application, root: str) -> None:
    """One tab: a game of its own, frames out, commands in."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    texts: list[str] = []
    latest: list[bytes | None] = [None]

    def set_frame(frame: bytes) -> None:
        latest[0] = frame
        wake.set()

    def put_text(text: str) -> None:
        if len(texts) < 256:
            texts.append(text)
        wake.set()

    def publish(frame: bytes) -> None:  # game thread
        loop.call_soon_threadsafe(set_frame, frame)

    def notify(message: dict[str, Any]) -> None:  # game or export thread
        loop.call_soon_threadsafe(put_text, json.dumps(message))

    async def sender() -> None:
        try:
            while not ws.closed:
                await wake.wait()
                wake.clear()
                while texts:
                    await ws.send_str(texts.pop(0))
                frame, latest[0] = latest[0], None
                if frame is not None:
                    await ws.send_bytes(frame)
        except (ConnectionError, RuntimeError):  # the tab went away mid-send
            pass

    game_id = request.query.get("game", "")
    if len(app["games"]) >= MAX_GAMES:
        await ws.send_json({"type": "hello", "ok": False, "error": f"at most {MAX_GAMES} games at once"})
        return
    try:
        workspace = await asyncio.to_thread(Workspace.open, game_id, root)
        game = StudioGame(game_id, workspace, request.query.get("state") or None, publish, notify)
    except _USER_ERRORS as e:
        await ws.send_json({"type": "hello", "ok": False, "error": str(e)})
        return
    app["games"].add(game)
    try:
        described = await asyncio.wrap_future(game.ready)
    except Exception as e:  # the game did not open: the page says why
        app["games"].discard(game)
        if not isinstance(e, _USER_ERRORS):
            log.exception("opening %s failed", game_id)
        await ws.send_json({"type": "hello", "ok": False, "error": str(e)})
        return
    task = asyncio.create_task(sender())
    try:
        put_text(json.dumps({"type": "hello", "ok": True, **described}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                request_doc = json.loads(msg.data)
                cmd = request_doc.get("cmd")
            except (ValueError, AttributeError):
                continue
            if cmd == "input":
                mask = request_doc.get("mask", 0)
                if isinstance(mask, int) and not isinstance(mask, bool):
                    game.set_input(mask)
                continue
            asyncio.ensure_future(_answer(game, request_doc, put_text))
    finally:
        task.cancel()
        app["games"].discard(game)
        await asyncio.to_thread(game.close)


async def _answer(game: StudioGame, doc: dict[str, Any], put_text: Callable[[str], None]) -> None:
    ident = doc.get("id")
    method = _COMMANDS.get(doc.get("cmd", ""))
    reply: dict[str, Any] = {"type": "reply", "id": ident}
    try:
        if method is None:
            raise ValueError(f"unknown command {doc.get('cmd')!r}")
        args = doc.get("args") or {}
        if not isinstance(args, dict):
            raise TypeError("args must be an object")
        result = await asyncio.wrap_future(game.call(getattr(game, method), **args))
        reply.update(ok=True, result=result)
    except _USER_ERRORS as e:
        reply.update(ok=False, error=f"{type(e).__name__}: {e}" if not isinstance(e, RetroError) else str(e))
    except Exception as e:  # never leaves the socket without an answer
        log.exception("studio command %s failed", doc.get("cmd"))
        reply.update(ok=False, error=f"internal error: {e!r}")
    put_text(json.dumps(reply, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def serve(root: str, game: str | None, state: str | None, host: str = "127.0.0.1", port: int = 0,
                token: str | None = None, ready: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled; ``ready(url)`` is called once the socket listens."""
    token = token or new_token()
    app = make_app(token, root, game, state)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/?token={token}"
    if ready is not None:
        ready(url)
    try:
        await asyncio.Event().wait()
    finally:
        for game_ in list(app["games"]):
            await asyncio.to_thread(game_.close)
        await runner.cleanup()
