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

Everything the page sends is checked by :mod:`retro.studio.protocol` before
it is acted on: a malformed or out-of-range message is answered
``{"type": "reply", "id": n, "ok": false, "error": "args.frames: ...",
"error_type": "BadMessage", "field": "args.frames"}`` (``id`` null when the
message has none usable) and the socket stays open. Every error reply
carries ``error_type``. At most :data:`MAX_GAMES` games play at once: a
socket takes a slot before it awaits anything and gives it back however it
ends; the sockets beyond the limit get ``{"type": "hello", "ok": false,
"error": "busy: ...", "error_type": "Busy"}`` and are closed. Replies are never
dropped: a socket that stops reading them is read no more, and closed once its
replies have waited :data:`SLOW_READER_SECONDS` for it (its game's slot is
then free again).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from retro.studio.protocol import MAX_MESSAGE_BYTES, BadMessage, Message, check_query, parse_message
from retro.studio.workspace import (
    MAX_UPLOAD_BYTES, ContentTooLarge, StudioPathError, Workspace, create_integration, safe_name,
)

__all__ = ["make_app", "serve", "TOKEN_HEADER", "MAX_GAMES", "MAX_PENDING", "SLOW_READER_SECONDS", "Busy", "Games",
           "GAMES"]

TOKEN_HEADER = "X-Retro-Token"
#: Games (tabs) played at once by one server.
MAX_GAMES = 8
#: Commands of one socket waiting for the game at once; more are answered "busy" at once.
MAX_PENDING = 32
#: Text messages queued for one socket; status notices beyond it are dropped, replies wait for room.
_MAX_QUEUED = 256
#: A socket whose replies have waited this long for it to read them is closed (a client that writes and never
#: reads would otherwise hold its game, and a read of the server's, for ever).
SLOW_READER_SECONDS = 20.0
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


class Games:
    """The games of one server: ``slots`` counts those reserved or playing (at most :data:`MAX_GAMES`)."""

    def __init__(self) -> None:
        self.slots = 0
        self.playing: set[StudioGame] = set()


#: Where an application keeps its :class:`Games`.
GAMES: web.AppKey[Games] = web.AppKey("retro_studio_games", Games)
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
    app[GAMES] = games_ = Games()  # a slot is taken before any await and given back however the socket ends

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
            query = check_query("/api/file", request.query)
            name = query["name"]
            suffix = os.path.splitext(name)[1]
            if suffix not in _DOWNLOADS:
                raise StudioPathError(f"only {', '.join(_DOWNLOADS)} files can be downloaded")
            path = Workspace(query["game"], root).path(name, suffix)
        except (BadMessage, StudioPathError) as e:
            return _error_response(e, 400)
        if not os.path.isfile(path):
            return web.json_response({"error": f"no file {name}"}, status=404)
        return web.FileResponse(path)

    async def upload_movie(request: web.Request) -> web.Response:
        async def work() -> dict[str, Any]:
            query = check_query("/api/movie", request.query)
            ws = Workspace(query["game"], root)
            name = safe_name(query["name"], ".bk2")
            body = await _body(request)
            return {"path": await asyncio.to_thread(_store_movie, ws, name, body)}
        return await _answer_upload(work())

    async def new_integration(request: web.Request) -> web.Response:
        async def work() -> dict[str, Any]:
            query = check_query("/api/new", request.query)
            filename = query["filename"]
            ext = os.path.splitext(filename)[1].lower()
            if not ext or not ext[1:].isalnum():
                raise StudioPathError(f"{filename!r}: a ROM file name ends in its system's extension")
            body = await _body(request)
            return {"game": await asyncio.to_thread(_new_game, body, ext, root, query.get("name") or None)}
        return await _answer_upload(work())

    async def socket(request: web.Request) -> web.WebSocketResponse:
        # a message up to 4x the bound is read and answered as too large; a larger one closes the socket (1009)
        ws = web.WebSocketResponse(max_msg_size=4 * MAX_MESSAGE_BYTES, heartbeat=30, compress=False)
        if games_.slots >= MAX_GAMES:  # checked and taken with no await between: the count cannot be raced
            await ws.prepare(request)
            with contextlib.suppress(ConnectionError, RuntimeError):  # the tab may be gone already
                await ws.send_json({"type": "hello", "ok": False, "error_type": Busy.__name__,
                                    "error": f"busy: at most {MAX_GAMES} games play at once; close a tab and retry"})
                await ws.close()
            return ws
        games_.slots += 1
        released = False

        def release(_: object = None) -> None:
            nonlocal released
            if not released:
                released = True
                games_.slots -= 1
        try:
            await ws.prepare(request)
            await _play(ws, request, app, root, release)
        finally:
            release()  # _play gives the slot back once its game is closed; this covers every other way out
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
        return _error_response(e, 400)


def _error_response(e: Exception, status: int) -> web.Response:
    body: dict[str, Any] = {"error": str(e), "error_type": type(e).__name__}
    if isinstance(e, BadMessage):
        body["field"] = e.field
    return web.json_response(body, status=status)


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


async def _play(ws: web.WebSocketResponse, request: web.Request, app: web.Application, root: str,
                release: Callable[[], None]) -> None:
    """One tab: a game of its own, frames out, commands in. ``release`` gives the game's slot back."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    room = asyncio.Event()  # set while the text queue has room
    room.set()
    texts: list[str] = []
    latest: list[bytes | None] = [None]
    pending: set[asyncio.Future[None]] = set()

    def set_frame(frame: bytes) -> None:
        latest[0] = frame
        wake.set()

    def put_text(text: str, droppable: bool = False) -> None:
        if droppable and len(texts) >= _MAX_QUEUED:
            return  # a status notice: the next one says the same, newer
        texts.append(text)
        if len(texts) >= _MAX_QUEUED:
            room.clear()
        wake.set()

    def publish(frame: bytes) -> None:  # game thread
        loop.call_soon_threadsafe(set_frame, frame)

    def notify(message: dict[str, Any]) -> None:  # game or export thread
        loop.call_soon_threadsafe(put_text, json.dumps(message, default=_jsonable), message.get("type") == "status")

    async def sender() -> None:
        try:
            while not ws.closed:
                await wake.wait()
                wake.clear()
                while texts:
                    await ws.send_str(texts.pop(0))
                    if len(texts) < _MAX_QUEUED:
                        room.set()
                frame, latest[0] = latest[0], None
                if frame is not None:
                    await ws.send_bytes(frame)
        except (ConnectionError, RuntimeError):  # the tab went away mid-send
            pass
        finally:
            room.set()  # nothing waits for a queue nobody drains

    async def refuse(e: BaseException) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):  # the tab may be gone already
            await ws.send_json({"type": "hello", "ok": False, "error": str(e), "error_type": type(e).__name__,
                                **({"field": e.field} if isinstance(e, BadMessage) else {})})

    game: StudioGame | None = None
    try:
        try:
            query = check_query("/ws", request.query)
            workspace = await asyncio.to_thread(Workspace.open, query["game"], root)
            game = StudioGame(query["game"], workspace, query.get("state") or None, publish, notify)
            app[GAMES].playing.add(game)
            described = await asyncio.wrap_future(game.ready)
        except Exception as e:  # the game did not open: the page says why
            if not isinstance(e, _USER_ERRORS):
                log.exception("opening %s failed", request.query.get("game"))
            await refuse(e)
            return
        task = asyncio.create_task(sender())
        try:
            put_text(json.dumps({"type": "hello", "ok": True, **described}, default=_jsonable))
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                if not room.is_set():  # replies are never dropped: a client that does not read stops being read
                    try:
                        await asyncio.wait_for(room.wait(), SLOW_READER_SECONDS)
                    except asyncio.TimeoutError:
                        log.warning("closing a socket that read none of its replies for %s s", SLOW_READER_SECONDS)
                        if request.transport is not None:
                            request.transport.abort()  # a close frame would wait behind what it does not read
                        break
                try:
                    if msg.type == WSMsgType.BINARY:
                        raise BadMessage("message", "expected a text message of JSON, got a binary one")
                    message = parse_message(msg.data)
                except BadMessage as e:
                    put_text(json.dumps(_error_reply(e.id, e)))
                    continue
                if message.cmd == "input":
                    game.set_input(message.args.get("mask", 0))
                    continue
                if len(pending) >= MAX_PENDING:
                    busy = Busy(f"busy: {MAX_PENDING} commands are waiting already; wait for their replies")
                    put_text(json.dumps(_error_reply(message.id, busy)))
                    continue
                fut = asyncio.ensure_future(_answer(game, message, put_text))
                pending.add(fut)
                fut.add_done_callback(pending.discard)
        finally:
            task.cancel()
            for waiting in list(pending):  # their game is closing: nobody is left to answer them
                waiting.cancel()
    finally:
        if game is None:
            release()
        else:
            app[GAMES].playing.discard(game)
            closing: asyncio.Future[None] = asyncio.ensure_future(asyncio.to_thread(game.close))
            closing.add_done_callback(lambda _: release())  # the slot is free once the game's thread has ended
            await asyncio.shield(closing)


class Busy(RetroError, RuntimeError):
    """The server is at a limit (games at once, commands waiting): retry later."""


def _error_reply(ident: Any, e: BaseException) -> dict[str, Any]:
    if isinstance(e, RetroError):
        text = str(e)
    else:
        text = f"{type(e).__name__}: {e}"
    reply: dict[str, Any] = {"type": "reply", "id": ident, "ok": False, "error": text, "error_type": type(e).__name__}
    if isinstance(e, BadMessage):
        reply["field"] = e.field
    return reply


async def _answer(game: StudioGame, message: Message, put_text: Callable[[str], None]) -> None:
    method = getattr(game, _COMMANDS[message.cmd])
    try:
        result = await asyncio.wrap_future(game.call(method, **message.args))
        reply: dict[str, Any] = {"type": "reply", "id": message.id, "ok": True, "result": result}
    except _USER_ERRORS as e:
        reply = _error_reply(message.id, e)
    except Exception as e:  # never leaves the socket without an answer
        log.exception("studio command %s failed", message.cmd)
        reply = _error_reply(message.id, e)
        reply["error"] = f"internal error: {e!r}"
    try:
        text = json.dumps(reply, default=_jsonable)
    except (TypeError, ValueError) as e:
        log.exception("studio command %s: its result is not JSON", message.cmd)
        text = json.dumps(_error_reply(message.id, e) | {"error": f"internal error: {e!r}"})
    put_text(text)


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
        for game_ in list(app[GAMES].playing):
            await asyncio.to_thread(game_.close)
        await runner.cleanup()
