"""Retro Studio end to end: the real server (``python3 -m retro studio``) on a real core, driven by
Debian's Chromium through Playwright, plus its security rules (token, file names, loopback)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

import retro
from retro.data import Integrations
from retro.session import GameSession
from retro.studio.workspace import MAX_UPLOAD_BYTES, StudioPathError, Workspace, create_integration, safe_name

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
GAME = "Airstriker-Genesis"
LIVES, SCORE = 0xFF025A, 0xFF024E  # where the library's data.json says Airstriker keeps them
SCREENSHOT = REPO / "docs" / "images" / "studio.png"


class Server:
    def __init__(self, root: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                   PYTHONUNBUFFERED="1")
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "retro", "studio", *args, "--port", "0", "--integrations", str(root)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=str(root.parent))
        assert self.proc.stdout is not None
        lines: list[str] = []
        # a thread reads the lines: select() on the pipe misses a line already read into the file's buffer
        # together with the one before it (as "new integration ..." and the URL often arrive)
        received: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout

        def read() -> None:  # to the end: the server's later lines never fill the pipe either
            for text in iter(stdout.readline, ""):
                received.put(text)
            received.put("")

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = received.get(timeout=1)
            except queue.Empty:
                continue
            if not line:
                break
            lines.append(line)
            found = re.search(r"(http://\S+)/\?token=(\S+)", line)
            if found:
                self.base, self.token = found.groups()
                self.url = f"{self.base}/?token={self.token}"
                self.port = int(urllib.parse.urlsplit(self.base).port or 0)
                return
        self.close()
        raise AssertionError("retro studio did not print its URL:\n" + "".join(lines))

    def get(self, path: str, **query: str) -> tuple[int, bytes]:
        url = f"{self.base}{path}" + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post(self, path: str, body: bytes, **query: str) -> tuple[int, Any]:
        url = f"{self.base}{path}?" + urllib.parse.urlencode(query)
        req = urllib.request.Request(url, data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("studio") / "custom"
    s = Server(root, GAME)
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


PAGE_ERRORS: dict[int, list[str]] = {}
# a digest of every pixel on the page's canvas
CANVAS_DIGEST = """(() => {
    const c = document.getElementById('screen');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i++) h = (Math.imul(h, 31) + d[i]) | 0;
    return h;
})()"""


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1180, "height": 640})
    errors = PAGE_ERRORS.setdefault(id(page), [])
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.studio && studio.info && studio.framesSeen > 2", timeout=30000)
    return page


def tap_for(page: Page, key: str, seconds: float) -> None:
    """Tap ``key`` (down 70 ms, up 70 ms) for about ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        page.keyboard.down(key)
        page.wait_for_timeout(70)
        page.keyboard.up(key)
        page.wait_for_timeout(70)


def cell(page: Page, variable: str) -> int:
    text = page.text_content(f'#variables tr[data-name="{variable}"] td.value') or ""
    return int(text)


def wait_value(page: Page, variable: str, predicate: Any, tap: str | None = None, timeout: float = 20) -> int:
    """Play until the variables table shows ``variable`` satisfying ``predicate`` (tapping a key meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tap:
            page.keyboard.down(tap)
            page.wait_for_timeout(70)
            page.keyboard.up(tap)
            page.wait_for_timeout(70)
        else:
            page.wait_for_timeout(100)
        text = page.text_content(f'#variables tr[data-name="{variable}"] td.value') or ""
        if text and predicate(int(text)):
            return int(text)
    raise AssertionError(f"{variable} never satisfied the condition (last {text!r})")


def paused(page: Page, want: bool) -> None:
    """Click Pause/Play until the game is (not) paused, and wait for the server to say so."""
    label = "Play" if want else "Pause"
    if page.text_content("#pause") != label:
        page.click("#pause")
    page.wait_for_function(f"document.getElementById('pause').textContent === '{label}'")
    if want:
        page.wait_for_timeout(300)  # a status sent after the pause (every 100 ms) shows the values it stopped at


def search_count(page: Page) -> int:
    text = page.text_content("#search-count") or ""
    return int(text)


def replay_ram(movie_path: str) -> tuple[int, str]:
    """Replay a .bk2 with ``retro.Movie`` on a fresh emulator; its frame count and a digest of RAM at the end."""
    movie = retro.Movie(movie_path)
    rom = retro.data.get_romfile_path(movie.get_game(), Integrations.ALL)
    em = retro.RetroEmulator(rom)
    try:
        assert em.set_state(movie.get_state())
        frames = 0
        while movie.step():
            em.set_button_mask(movie.masks()[0], 0)
            em.step()
            frames += 1
        return frames, hashlib.sha1(em.get_ram().tobytes()).hexdigest()
    finally:
        em.close()


def test_the_game_ignores_no_input() -> None:
    """The control for the browser test below: without input Airstriker scores nothing in 600 frames."""
    s = GameSession(GAME, inttype=Integrations.ALL, use_restricted_actions=retro.Actions.ALL)
    try:
        s.restart()
        for _ in range(600):
            s.press([0])
            s.advance()
        assert s.data.lookup_value("score") == 0
    finally:
        s.close()


def test_play_search_promote_reward_state_movie(server: Server, browser: Browser, capsys: Any) -> None:
    page = open_page(browser, server.url)
    folder = server.root / GAME

    # frames stream and change
    first = page.evaluate("studio.framesSeen")
    pixels = page.evaluate(CANVAS_DIGEST)
    page.wait_for_timeout(1000)
    assert page.evaluate("studio.framesSeen") > first + 20
    assert page.evaluate(CANVAS_DIGEST) != pixels
    assert page.evaluate("studio.info.buttons") == ["B", "A", "MODE", "START", "UP", "DOWN", "LEFT", "RIGHT",
                                                     "C", "Y", "X", "Z"]

    # speed: 0.25x to 8x, nothing else
    page.select_option("#speed", "4")
    assert page.evaluate("studio.cmd('status')")["speed"] == 4  # commands are answered in order
    assert "speed must be" in page.evaluate("studio.cmd('speed', {speed: 16}).then(() => 'ok', e => e.message)")
    page.select_option("#speed", "1")
    assert page.evaluate("studio.cmd('status')")["speed"] == 1

    # from the start of Level1, paused: start two searches
    paused(page, True)
    page.click("#reset")
    page.wait_for_function("document.getElementById('frame').textContent === '0'")
    assert cell(page, "lives") == 3 and cell(page, "score") == 0
    page.fill("#search-name", "lives")
    page.click("#search-start")
    page.wait_for_function("document.getElementById('search-count').textContent === 'all'")
    page.fill("#search-value", "3")
    page.click("#search-exact")
    page.wait_for_function("/^[0-9]+$/.test(document.getElementById('search-count').textContent)")
    lives_at_start = search_count(page)
    page.fill("#search-name", "score")
    page.click("#search-start")
    page.fill("#search-value", "0")
    page.click("#search-exact")
    page.wait_for_function("/^[0-9]+$/.test(document.getElementById('search-count').textContent)")
    score_at_start = search_count(page)

    # play: tapping Z (the B button, fire) scores; its chip lights while held
    page.click("#screen")
    paused(page, False)
    page.keyboard.down("z")
    page.wait_for_function("document.querySelector('#buttons span[data-name=B]').classList.contains('on')")
    page.keyboard.up("z")
    seen = page.evaluate("studio.fpsHistory.length")
    wait_value(page, "score", lambda v: v > 0, tap="z")  # the game responds to the keys (see the control above)
    wait_value(page, "lives", lambda v: v < 3)
    fps = page.evaluate(f"studio.fpsHistory.slice({seen + 1})")  # whole seconds of play only
    paused(page, True)
    score = cell(page, "score")
    lives = cell(page, "lives")
    assert score > 0 and lives == 2
    assert fps, "the page counted no frames while playing"
    with capsys.disabled():
        print(f"\nstudio: frames drawn per second in the browser while playing Airstriker (page counter): "
              f"median {statistics.median(fps):.1f}, min {min(fps):.1f}, max {max(fps):.1f} over {len(fps)} s")

    # narrow both searches: by exact value, then by relation after a frame advance
    page.fill("#search-value", str(score))
    page.click("#search-exact")
    page.wait_for_function(f"document.getElementById('search-count').textContent !== '{score_at_start}'")
    assert search_count(page) < score_at_start // 1000
    assert page.locator(f'#candidates tr[data-address="{SCORE}"]').count() == 1
    page.fill("#search-name", "lives")
    page.fill("#search-value", str(lives))
    page.click("#search-exact")
    page.wait_for_function(f"document.getElementById('search-count').textContent !== '{lives_at_start}'")
    page.click("#advance")
    page.select_option("#search-relation", "equal")
    page.click("#search-narrow")
    page.wait_for_function("document.getElementById('search-steps').textContent.includes('equal')")
    narrowed = search_count(page)
    assert narrowed <= 20 < lives_at_start, (narrowed, lives_at_start)
    row = page.locator(f'#candidates tr[data-address="{LIVES}"]')
    assert row.count() == 1
    assert row.locator("td").nth(3).text_content() == str(lives)
    page.screenshot(path=str(server.root.parent / "studio.png"))

    # promote the candidate to a variable: saved in data.json, shown live
    row.locator("button.use").click()
    assert page.input_value("#promote-address") == str(LIVES)
    page.fill("#promote-name", "lives_found")
    page.fill("#promote-type", ">u2")
    page.click("#promote")
    page.wait_for_selector('#variables tr[data-name="lives_found"]', state="attached")
    saved = json.loads((folder / "data.json").read_text())["info"]
    assert saved["lives_found"] == {"address": LIVES, "type": ">u2"}
    assert {"lives", "score", "gameover"} <= saved.keys()
    page.wait_for_function("document.querySelector('#variables tr[data-name=lives_found] td.value')"
                           f".textContent === '{lives}'")

    # edit a reward: score is worth 10 per point; saved (old file backed up), applied to the frames played
    page.click("nav button[data-tab=scenario]")
    reward = page.locator('#reward-table tr[data-name="score"] input[data-key="reward"]')
    reward.fill("10")
    reward.dispatch_event("change")
    page.click("#scenario-save")
    page.wait_for_function("document.getElementById('scenario-result').textContent === 'saved and applied'")
    scenario = json.loads((folder / "scenario.json").read_text())
    assert scenario["reward"]["variables"]["score"]["reward"] == 10
    assert scenario["done"]["variables"]["lives"] == {"measurement": "absolute", "op": "zero", "reference": 0}
    assert list((folder / ".backup").glob("scenario.json.*"))
    page.click("#reset")
    page.wait_for_function("document.getElementById('total').textContent === '0'")
    page.click("#screen")
    paused(page, False)
    wait_value(page, "score", lambda v: v > 0, tap="z")
    paused(page, True)
    page.wait_for_timeout(300)
    assert float(page.text_content("#total") or "nan") == 10 * cell(page, "score")

    # a bad scenario is refused with the loader's own message, and nothing is written
    before = (folder / "scenario.json").read_bytes()
    page.click("#tab-scenario details summary")
    page.fill("#scenario-json", json.dumps({"reward": {"variables": {"nope": {"reward": 1}}}}))
    page.click("#scenario-from-json")
    page.click("#scenario-save")
    page.wait_for_function("document.getElementById('scenario-result').className === 'error'")
    assert "nope" in (page.text_content("#scenario-result") or "")
    assert (folder / "scenario.json").read_bytes() == before

    # save a state, find the file (gzip, as Gym Retro writes), make it the default
    page.fill("#state-name", "StudioTest")
    page.click("#state-save")
    page.wait_for_function("Array.from(document.querySelectorAll('#state-list option'))"
                           ".some(o => o.value === 'StudioTest')")
    state = gzip.decompress((folder / "StudioTest.state").read_bytes())
    assert len(state) > 1000
    page.select_option("#state-list", "StudioTest")
    page.click("#state-default")
    page.wait_for_function("document.getElementById('default-state').textContent === 'default: StudioTest'")
    assert json.loads((folder / "metadata.json").read_text())["default_state"] == "StudioTest"

    # record what is played, then replay the .bk2 with retro.Movie: bit for bit the same RAM
    page.click("nav button[data-tab=movies]")
    page.fill("#movie-name", "run1")
    page.click("#record")
    page.wait_for_function("!document.getElementById('rec-flag').hidden")
    page.click("#screen")
    paused(page, False)
    page.keyboard.down("ArrowLeft")
    tap_for(page, "z", 1.5)
    page.keyboard.up("ArrowLeft")
    page.click("#record-stop")
    page.wait_for_function("studio.lastRecording")
    recorded = page.evaluate("studio.lastRecording")
    assert recorded["frames"] > 30
    frames, ram = replay_ram(str(folder / "run1.bk2"))
    assert (frames, ram) == (recorded["frames"], recorded["ram_sha1"])

    # play it back in the page: frame counter, seek by replaying, export to mp4 with progress
    page.wait_for_function("Array.from(document.querySelectorAll('#movie-list option')).some(o => o.value === 'run1.bk2')")
    page.select_option("#movie-list", "run1.bk2")
    page.click("#movie-open")
    page.wait_for_function("document.getElementById('movie-total').textContent === String(%d)" % frames)
    page.evaluate("studio.cmd('seek', {frame: 20})")
    page.wait_for_function("document.getElementById('movie-frame').textContent === '20'")
    page.click("#movie-play")
    page.wait_for_function("document.getElementById('movie-frame').textContent === String(%d)" % frames,
                           timeout=20000)
    page.wait_for_timeout(200)
    assert page.evaluate("studio.cmd('status')")["playback"]["frame"] == frames
    page.click("#movie-export")
    page.wait_for_function("document.getElementById('export-result').textContent.startsWith('wrote')",
                           timeout=60000)
    assert page.evaluate("document.getElementById('export-progress').value") == 1
    assert (folder / "run1.mp4").stat().st_size > 1000
    status, body = server.get("/api/file", token=server.token, game=GAME, name="run1.mp4")
    assert status == 200 and body[4:8] == b"ftyp"
    # a variable the scenario reads cannot be removed from under it
    err = page.evaluate("studio.cmd('remove_variable', {name: 'score'}).then(() => 'ok', e => e.message)")
    assert "take it out of the scenario first" in err
    assert "score" in json.loads((folder / "data.json").read_text())["info"]
    assert not PAGE_ERRORS[id(page)]
    page.close()

    # a .bk2 uploaded into the folder must be a movie
    status, body = server.post("/api/movie", (folder / "run1.bk2").read_bytes(), token=server.token, game=GAME,
                               name="uploaded")
    assert status == 200 and len(retro.Movie(str(folder / "uploaded.bk2"))) == frames
    status, body = server.post("/api/movie", b"PK\3\4 not a zip", token=server.token, game=GAME, name="junk")
    assert status == 400 and b"not a valid zip" in body
    assert not (folder / "junk.bk2").exists()

    shot = server.root.parent / "studio.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("RETRO_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_two_tabs_on_one_game(server: Server, browser: Browser) -> None:
    a = open_page(browser, server.url)
    b = open_page(browser, server.url)
    # both play at once, each its own session; their writes to data.json interleave without loss
    for page, tag in ((a, "a"), (b, "b")):
        page.evaluate(f"""window.writes = (async () => {{
            for (let i = 0; i < 10; i++) await studio.cmd('set_variable', {{name: '{tag}' + i, address: {LIVES + 1} + i,
                                                                            type: '|u1'}});
        }})()""")
    a.evaluate("window.writes")
    b.evaluate("window.writes")
    info = json.loads((server.root / GAME / "data.json").read_text())["info"]
    assert {f"{t}{i}" for t in "ab" for i in range(10)} <= info.keys()
    # a scenario saved from a stale copy is refused, not written over the other tab's
    scen_a = a.evaluate("studio.cmd('scenario')")
    b.evaluate("studio.cmd('scenario').then(r => studio.cmd('save_scenario', {doc: Object.assign(r.doc, {crop: [0, 0, 0, 0]}), "
               "digest: r.digest}))")
    with_crop = json.loads((server.root / GAME / "scenario.json").read_text())
    err = a.evaluate("([doc, digest]) => studio.cmd('save_scenario', {doc, digest}).then(() => 'saved', e => e.message)",
                     [scen_a["doc"], scen_a["digest"]])
    assert "changed since it was read" in err
    assert json.loads((server.root / GAME / "scenario.json").read_text()) == with_crop
    # one movie name is recorded by one tab at a time, and a finished movie is never recorded over
    assert a.evaluate("studio.cmd('record_start', {name: 'shared'}).then(() => 'ok', e => e.message)") == "ok"
    err = b.evaluate("studio.cmd('record_start', {name: 'shared'}).then(() => 'ok', e => e.message)")
    assert "being recorded in another tab" in err
    assert a.evaluate("studio.cmd('record_stop').then(r => r.frames)") > 0
    err = b.evaluate("studio.cmd('record_start', {name: 'shared'}).then(() => 'ok', e => e.message)")
    assert "already exists" in err
    assert len(retro.Movie(str(server.root / GAME / "shared.bk2"))) > 0
    # both still receive frames
    for page in (a, b):
        n = page.evaluate("studio.framesSeen")
        page.wait_for_function(f"studio.framesSeen > {n + 5}")
        page.close()


def test_new_integration_from_a_rom(server: Server, browser: Browser, airstriker_rom: Path, tmp_path: Path) -> None:
    rom = bytearray(airstriker_rom.read_bytes())
    rom[-1] ^= 0xFF  # a dump no integration knows
    path = tmp_path / "mystery.md"
    path.write_bytes(bytes(rom))
    page = open_page(browser, server.url)
    page.click("nav button[data-tab=new]")
    page.set_input_files("#new-rom", str(path))
    page.fill("#new-name", "Mystery Ship")
    page.click("#new-create")
    page.wait_for_function("studio.info && studio.info.game === 'MysteryShip-Genesis'")
    n = page.evaluate("studio.framesSeen")
    page.wait_for_function(f"studio.framesSeen > {n + 10}")
    folder = server.root / "MysteryShip-Genesis"
    assert (folder / "rom.sha").read_text().strip() == hashlib.sha1(bytes(rom)).hexdigest()
    assert json.loads((folder / "data.json").read_text()) == {"info": {}}
    assert json.loads((folder / "metadata.json").read_text()) == {}
    assert "reward" in json.loads((folder / "scenario.json").read_text())
    # and work on it at once: a variable
    page.evaluate(f"studio.cmd('set_variable', {{name: 'lives', address: {LIVES}, type: '>u2'}})")
    assert json.loads((folder / "data.json").read_text())["info"]["lives"]["address"] == LIVES
    saved = page.evaluate("studio.cmd('save_scenario', {doc: {done: {variables: {lives: {op: 'zero'}}}}})")
    assert json.loads((folder / "scenario.json").read_text()) == saved["doc"]
    # a scenario that cannot be evaluated any more pauses the game and says why, instead of stopping it
    page.evaluate("studio.cmd('set_variable', {name: 'lives', address: 5, type: '|u1'})")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('paused')")
    assert page.evaluate("studio.cmd('status')")["paused"] is True
    page.evaluate("studio.cmd('set_variable', {name: 'lives', address: %d, type: '>u2'})" % LIVES)
    n = page.evaluate("studio.framesSeen")
    page.evaluate("studio.cmd('pause', {paused: false})")
    page.wait_for_function(f"studio.framesSeen > {n + 10}")
    page.close()
    # the folder is never made twice
    with pytest.raises(FileExistsError):
        create_integration(path, server.root, "Mystery Ship")


# -- security ---------------------------------------------------------------------------------------------


def _upgrade(server: Server, query: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/ws" + query, headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    status = conn.getresponse().status
    conn.close()
    return status


def test_no_token_is_403(server: Server) -> None:
    for path in ("/", "/static/studio.js", "/api/config", "/api/games", "/api/file", "/nonexistent"):
        assert server.get(path)[0] == 403, path
        assert server.get(path, token="wrong")[0] == 403, path
    assert server.post("/api/movie", b"x", game=GAME, name="m.bk2")[0] == 403
    assert server.post("/api/new", b"x", filename="a.md")[0] == 403
    assert _upgrade(server, f"?game={GAME}") == 403
    assert _upgrade(server, f"?game={GAME}&token={server.token[:-1]}") == 403
    assert _upgrade(server, f"?game={GAME}&token={server.token}") == 101
    assert server.get("/", token=server.token)[0] == 200


@pytest.mark.parametrize("name", ["../evil.bk2", "..\\evil.bk2", "/etc/passwd", "a/../../b.bk2", "..", ".hidden.bk2",
                                  "x\0.bk2", "%2e%2e%2fx.bk2"])
def test_traversal_is_refused(server: Server, name: str) -> None:
    status, _ = server.get("/api/file", token=server.token, game=GAME, name=name)
    assert status in (400, 404) and status != 200
    status, body = server.post("/api/movie", b"not a movie", token=server.token, game=GAME, name=name)
    assert status == 400, body
    status, _ = server.get("/api/file", token=server.token, game="../" + GAME, name="data.json")
    assert status == 400
    with pytest.raises(StudioPathError):
        safe_name(name, ".bk2")
    assert not any(p.name == "evil.bk2" for p in server.root.parent.rglob("evil.bk2"))


def test_traversal_through_the_socket_and_symlinks(server: Server, browser: Browser, tmp_path: Path) -> None:
    page = open_page(browser, server.url)
    for cmd, args in (("save_state", {"name": "../../escaped"}), ("record_start", {"name": "../escaped"}),
                      ("open_movie", {"name": "/etc/passwd"}), ("export_movie", {"name": "../x"})):
        err = page.evaluate(f"studio.cmd('{cmd}', {json.dumps(args)}).then(() => 'ok', e => e.message)")
        assert "not a plain file name" in err, (cmd, err)
    page.close()
    assert not list(server.root.parent.rglob("escaped*"))
    # a link inside the folder pointing out of it is refused too
    ws = Workspace(GAME, server.root)
    outside = tmp_path / "outside.state"
    outside.write_bytes(b"x")
    os.symlink(outside, Path(ws.folder) / "link.state")
    with pytest.raises(StudioPathError):
        ws.path("link", ".state")


def test_upload_size_is_limited(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", f"/api/movie?token={server.token}&game={GAME}&name=big.bk2")
    conn.putheader("Content-Length", str(MAX_UPLOAD_BYTES + 1))
    conn.endheaders()
    conn.send(b"\0" * 4096)  # refused on its announced size, before the rest is sent
    assert conn.getresponse().status == 413
    conn.close()
    assert not (server.root / GAME / "big.bk2").exists()


def _local_addresses() -> list[str]:
    """This machine's own non-loopback IPv4 addresses (from its interfaces' routes)."""
    found = set()
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, timeout=10).stdout
        found.update(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)", out))
    except FileNotFoundError:
        pass
    try:
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_listens_on_loopback_only(server: Server) -> None:
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) == server.port:
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing on IPv6 or any other address
    for address in _local_addresses():
        with pytest.raises(OSError):
            socket.create_connection((address, server.port), timeout=2).close()


def test_studio_needs_no_server_to_import() -> None:
    code = "import sys, retro, retro.studio; print(sorted(m for m in ('aiohttp', 'playwright') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO),
                         env=dict(os.environ, PYTHONPATH=str(REPO)), check=True).stdout
    assert out.strip() == "[]"


def test_the_command_opens_a_rom(airstriker_rom: Path, tmp_path: Path) -> None:
    """``retro studio ROM``: a ROM an integration knows opens that game; any other starts a new integration."""
    rom = bytearray(airstriker_rom.read_bytes())
    rom[-2] ^= 0x55
    unknown = tmp_path / "my homebrew.md"
    unknown.write_bytes(bytes(rom))
    for path, game in ((airstriker_rom, GAME), (unknown, "MyHomebrew-Genesis")):
        s = Server(tmp_path / "custom", str(path))
        try:
            status, body = s.get("/api/config", token=s.token)
            assert status == 200 and json.loads(body)["game"] == game
        finally:
            s.close()
    folder = tmp_path / "custom" / "MyHomebrew-Genesis"
    assert (folder / "rom.sha").read_text().split() == [hashlib.sha1(bytes(rom)).hexdigest()]
    assert (folder / "rom.md").read_bytes() == bytes(rom)
    assert not (tmp_path / "custom" / GAME).exists()  # a game is copied into the folder only once it is opened


def test_a_game_that_cannot_open_is_explained(server: Server, browser: Browser) -> None:
    page = browser.new_page()
    for game, says in (("NoSuchGame-Genesis", "has no integration"), ("../" + GAME, "not a plain file name")):
        page.goto(server.url + "&game=" + urllib.parse.quote(game))
        page.wait_for_function("document.getElementById('message').className === 'error'")
        assert says in (page.text_content("#message") or "")
    page.close()
    # and the server still plays
    page = open_page(browser, server.url)
    page.close()


def test_a_scripted_atari_game_opens_with_its_lua(tmp_path: Path) -> None:
    """A game whose scenario runs Lua (Boxing) is copied with its script, and plays in a studio session."""
    from retro.studio.game import StudioGame

    ws = Workspace.open("Boxing-Atari2600", tmp_path)
    assert (Path(ws.folder) / "script.lua").is_file()
    before = Integrations.custom_paths()
    Integrations.add_custom_path(str(tmp_path))
    frames: list[bytes] = []
    game = StudioGame("Boxing-Atari2600", ws, None, frames.append, lambda message: None)
    try:
        info = game.ready.result(30)
        assert info["system"] == "Atari2600" and info["buttons"][0] == "BUTTON"
        start = game.call(game.pause, True).result(30)["frame"]
        status = game.call(game.step, 30).result(30)
        assert status["frame"] == start + 30 and status["paused"]
        assert set(status["values"]) >= {"score1", "score2", "minutes", "seconds"}
        width, height = info["width"], info["height"]
        assert len(frames[-1]) == 20 + width * height * 3
    finally:
        game.close()
        Integrations.clear_custom_paths()
        for path in before:
            Integrations.add_custom_path(path)


# -- hostile sockets and requests (no browser: an in-process server on 127.0.0.1 and raw WebSocket clients) ---


class LiveStudio:
    """``make_app`` served on 127.0.0.1 by an event loop on a thread of its own; tests drive it with ``run``."""

    def __init__(self, root: Path) -> None:
        import asyncio
        import threading

        import aiohttp
        from aiohttp import web

        from retro.studio.server import GAMES, make_app, new_token

        self.root = root
        self.token = new_token()
        self.app = make_app(self.token, str(root), GAME)
        self.games = self.app[GAMES]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="studio-test-loop", daemon=True)
        self.thread.start()

        async def start() -> tuple[web.AppRunner, aiohttp.ClientSession]:
            runner = web.AppRunner(self.app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            return runner, aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))  # no cap on sockets

        self.runner, self.session = self.run(start())
        self.port = self.runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{self.port}"

    def run(self, coro: Any, timeout: float = 120) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def ws_url(self, game: str = GAME) -> str:
        return f"{self.base}/ws?" + urllib.parse.urlencode({"token": self.token, "game": game})

    async def connect(self, game: str = GAME) -> tuple[Any, dict[str, Any]]:
        """A socket and its hello message."""
        ws = await self.session.ws_connect(self.ws_url(game), max_msg_size=0)
        while True:
            msg = await ws.receive(timeout=60)
            if msg.type.name != "TEXT":
                assert msg.type.name == "BINARY", msg
                continue
            doc = json.loads(msg.data)
            if doc["type"] == "hello":
                return ws, doc

    def slots_free(self, timeout: float = 30) -> bool:
        """Wait until no game is reserved or playing and no game thread is left."""
        import threading

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            games = [t for t in threading.enumerate() if t.name.startswith("studio-") and t.name != "studio-test-loop"]
            if self.games.slots == 0 and not self.games.playing and not games:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        async def stop() -> None:
            await self.session.close()
            await self.runner.cleanup()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def ask(ws: Any, text: str | bytes) -> list[dict[str, Any]]:
    """Send ``text`` and then a status request; every reply up to the status's (which must succeed)."""
    if isinstance(text, bytes):
        await ws.send_bytes(text)
    else:
        await ws.send_str(text)
    await ws.send_str(json.dumps({"id": "sync", "cmd": "status"}))
    replies = []
    while True:
        msg = await ws.receive(timeout=60)
        assert msg.type.name in ("TEXT", "BINARY"), f"the socket ended: {msg}"
        if msg.type.name == "BINARY":
            continue
        doc = json.loads(msg.data)
        if doc["type"] != "reply":
            continue
        if doc["id"] == "sync":
            assert doc["ok"] and doc["result"]["type"] == "status", doc
            return replies
        replies.append(doc)


async def close_all(sockets: list[Any]) -> None:
    import asyncio

    await asyncio.gather(*(ws.close() for ws in sockets))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStudio]:
    root = tmp_path_factory.mktemp("live") / "custom"
    root.mkdir()
    before = Integrations.custom_paths()
    Integrations.add_custom_path(str(root))
    studio = LiveStudio(root)
    try:
        yield studio
    finally:
        studio.close()
        Integrations.clear_custom_paths()
        for path in before:
            Integrations.add_custom_path(path)


def test_a_burst_of_sockets_never_opens_more_games_than_the_limit(live: LiveStudio) -> None:
    """``RETRO_STUDIO_BURST`` sockets (50; 200 for the long run) opened at once: ``MAX_GAMES`` games open, the
    rest are refused with ``Busy``, no more game threads than games, the process (server and clients)
    grows by less than 400 MiB, and HTTP requests sent while the sockets open are all answered."""
    import asyncio
    import threading

    from retro.studio.server import MAX_GAMES

    burst_size = int(os.environ.get("RETRO_STUDIO_BURST", "50"))
    before = _rss_mib()
    peak = {"slots": 0, "threads": 0, "rss": before}
    answers: list[int] = []

    async def burst() -> list[tuple[Any, dict[str, Any]]]:
        landed = asyncio.Event()

        async def ask_config() -> None:  # the server keeps answering while the burst lands
            while True:
                async with live.session.get(live.base + "/api/config", params={"token": live.token}) as r:
                    answers.append(r.status)
                if landed.is_set():
                    return
                await asyncio.sleep(0.01)

        async def watch() -> None:
            while True:
                peak["slots"] = max(peak["slots"], live.games.slots)
                threads = sum(t.name.startswith("studio-" + GAME) for t in threading.enumerate())
                peak["threads"] = max(peak["threads"], threads)
                peak["rss"] = max(peak["rss"], _rss_mib())
                await asyncio.sleep(0.002)
        watcher, asker = asyncio.ensure_future(watch()), asyncio.ensure_future(ask_config())
        try:
            return await asyncio.gather(*(live.connect() for _ in range(burst_size)))
        finally:
            watcher.cancel()
            landed.set()
            await asker  # its request in flight is answered (and one more, sent after the burst)

    opened = live.run(burst())
    try:
        ok = [hello for _ws, hello in opened if hello["ok"]]
        refused = [hello for _ws, hello in opened if not hello["ok"]]
        assert len(ok) == MAX_GAMES and len(refused) == burst_size - MAX_GAMES
        assert peak["slots"] <= MAX_GAMES and peak["threads"] <= MAX_GAMES, peak
        print(f"{burst_size} sockets at once: RSS {before:.0f} -> peak {peak['rss']:.0f} MiB; "
              f"{len(answers)} HTTP requests answered meanwhile")
        assert peak["rss"] - before < 400, peak
        assert answers and set(answers) == {200}, answers
        for hello in refused:
            assert hello["error_type"] == "Busy" and f"at most {MAX_GAMES} games" in hello["error"], hello
        # the refused sockets are closed by the server; the games play on
        ws, _ = next((ws, hello) for ws, hello in opened if hello["ok"])
        assert live.run(ask(ws, json.dumps({"id": 1, "cmd": "describe"})))[0]["ok"]
    finally:
        live.run(close_all([ws for ws, _ in opened]))
    assert live.slots_free(), (live.games.slots, live.games.playing)
    ws, hello = live.run(live.connect())
    assert hello["ok"]
    live.run(ws.close())
    assert live.slots_free()


def test_failed_and_dropped_opens_give_their_slot_back(live: LiveStudio) -> None:
    import asyncio

    from retro.studio.server import MAX_GAMES

    async def failing() -> list[dict[str, Any]]:
        sockets = await asyncio.gather(*(live.connect("NoSuchGame-Genesis") for _ in range(MAX_GAMES)))
        await asyncio.gather(*(ws.close() for ws, _ in sockets))
        return [hello for _, hello in sockets]

    for _ in range(3):  # each round fills every slot; a slot a failed open kept would refuse the next round
        for hello in live.run(failing()):
            assert not hello["ok"] and "has no integration" in hello["error"], hello
        assert live.slots_free()

    async def dropped() -> None:  # tabs that go away while their game is still opening
        sockets = await asyncio.gather(*(live.session.ws_connect(live.ws_url()) for _ in range(2 * MAX_GAMES)))
        await asyncio.gather(*(ws.close() for ws in sockets))

    live.run(dropped())
    assert live.slots_free()
    ws, hello = live.run(live.connect())
    assert hello["ok"]
    live.run(ws.close())
    assert live.slots_free()


DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED: list[tuple[str, str | bytes, str]] = [
    ("deep array", DEEP, "message"),
    ("deep args", '{"id": 7, "cmd": "step", "args": {"frames": ' + "[" * 5000 + "1" + "]" * 5000 + "}}", "message"),
    ("deep scenario", json.dumps({"id": 7, "cmd": "validate_scenario", "args": {"doc": {}}})[:-3]
     + '{"a": ' * 40 + "1" + "}" * 40 + "}}", "message"),
    ("frames Infinity", '{"id": 7, "cmd": "step", "args": {"frames": Infinity}}', "args.frames"),
    ("frames -Infinity", '{"id": 7, "cmd": "step", "args": {"frames": -Infinity}}', "args.frames"),
    ("frames NaN", '{"id": 7, "cmd": "step", "args": {"frames": NaN}}', "args.frames"),
    ("frames 1e400", '{"id": 7, "cmd": "step", "args": {"frames": 1e400}}', "args.frames"),
    ("frames huge", '{"id": 7, "cmd": "step", "args": {"frames": ' + "9" * 4000 + "}}", "args.frames"),
    ("address 1e400", '{"id": 7, "cmd": "set_variable", "args": {"name": "x", "address": 1e400, "type": "|u1"}}',
     "args.address"),
    ("address negative", '{"id": 7, "cmd": "set_variable", "args": {"name": "x", "address": -1, "type": "|u1"}}',
     "args.address"),
    ("speed NaN", '{"id": 7, "cmd": "speed", "args": {"speed": NaN}}', "args.speed"),
    ("speed 1e400", '{"id": 7, "cmd": "speed", "args": {"speed": 1e400}}', "args.speed"),
    ("speed a huge integer", '{"id": 7, "cmd": "speed", "args": {"speed": %d}}' % 10**400, "args.speed"),
    ("seek 2**70", '{"id": 7, "cmd": "seek", "args": {"frame": %d}}' % 2**70, "args.frame"),
    ("search value 1e400", '{"id": 7, "cmd": "search_value", "args": {"name": "s", "value": 1e400}}', "args.value"),
    ("NaN in a scenario", '{"id": 7, "cmd": "validate_scenario", "args": {"doc": {"reward": NaN}}}', "args.doc.reward"),
    ("huge name", json.dumps({"id": 7, "cmd": "save_state", "args": {"name": "a" * 500_000}}), "args.name"),
    ("huge message", json.dumps({"id": 7, "cmd": "status", "pad": "a" * (2 << 20)}), "message"),
    ("frames a string", '{"id": 7, "cmd": "step", "args": {"frames": "3"}}', "args.frames"),
    ("frames a float", '{"id": 7, "cmd": "step", "args": {"frames": 2.5}}', "args.frames"),
    ("paused a number", '{"id": 7, "cmd": "pause", "args": {"paused": 1}}', "args.paused"),
    ("args an array", '{"id": 7, "cmd": "step", "args": [1]}', "args"),
    ("unknown field", '{"id": 7, "cmd": "step", "args": {"frames": 1, "bogus": 2}}', "args.bogus"),
    ("missing field", '{"id": 7, "cmd": "set_variable", "args": {"name": "x"}}', "args.address"),
    ("cmd a number", '{"id": 7, "cmd": 5}', "cmd"),
    ("unknown cmd", '{"id": 7, "cmd": "rm -rf"}', "cmd"),
    ("no cmd", '{"id": 7}', "cmd"),
    ("id an object", '{"id": {}, "cmd": "status"}', "id"),
    ("mask a string", '{"cmd": "input", "mask": "all"}', "mask"),
    ("mask too large", '{"cmd": "input", "mask": %d}' % 2**40, "mask"),
    ("types not strings", '{"id": 7, "cmd": "search_start", "args": {"name": "s", "types": [1]}}', "args.types[0]"),
    ("an array", "[1, 2, 3]", "message"),
    ("a bare NaN", "NaN", "message"),
    ("not JSON", "{cmd: status}", "message"),
    ("not UTF-8 JSON", b"\xff\xfe{}", "message"),
]


@pytest.mark.parametrize("label, text, field", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_message_gets_a_typed_error_and_the_socket_stays(
        live: LiveStudio, label: str, text: str | bytes, field: str) -> None:
    ws, hello = live.run(live.connect())
    try:
        assert hello["ok"]
        replies = live.run(ask(ws, text))
        assert len(replies) == 1, replies
        reply = replies[0]
        assert reply["ok"] is False and reply["error_type"] == "BadMessage", reply
        assert reply["field"] == field and reply["error"].startswith(field + ":"), reply
        assert "internal error" not in reply["error"]
        assert reply["id"] == (7 if isinstance(text, str) and text.startswith('{"id": 7') and label not in (
            "deep args", "deep scenario", "huge message") else None), reply
    finally:
        live.run(ws.close())


def test_malformed_requests_get_typed_errors(live: LiveStudio) -> None:
    import asyncio

    async def get(path: str, query: list[tuple[str, str]]) -> tuple[int, Any]:
        async with live.session.get(live.base + path, params=[("token", live.token), *query]) as r:
            return r.status, await r.json()

    cases = [("/api/file", [("game", GAME), ("name", "a" * 2000 + ".json")], "name"),
             ("/api/file", [("game", GAME), ("name", "data.json"), ("name", "x.json")], "name"),
             ("/api/file", [("name", "data.json")], "game"),
             ("/api/file", [("game", GAME), ("name", "data.json"), ("evil", "1")], "evil")]
    for path, query, field in cases:
        status, body = live.run(get(path, query))
        assert status == 400 and body["field"] == field and body["error_type"] == "BadMessage", body
    status, body = live.run(get("/api/file", [("game", GAME), ("name", "data.json")]))
    assert status in (200, 404)
    # a refused socket query is a typed hello
    ws, hello = live.run(live.connect("x" * 2000))
    assert not hello["ok"] and hello["field"] == "game" and hello["error_type"] == "BadMessage"
    live.run(ws.close())
    del asyncio


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_a_thousand_malformed_messages_each_get_a_typed_error(live: LiveStudio) -> None:
    """A client that writes 1,000 malformed messages while it reads: 1,000 typed error replies, in order, and
    the socket still answers; the server's threads and memory stay as they were."""
    import asyncio

    kinds = [text for _label, text, _field in MALFORMED if not (isinstance(text, str) and len(text) > 100_000)]
    messages = [kinds[i % len(kinds)] for i in range(1000)]

    async def campaign() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        ws, hello = await live.connect()
        assert hello["ok"]

        async def write() -> None:
            for text in messages:
                await (ws.send_bytes(text) if isinstance(text, bytes) else ws.send_str(text))
            await ws.send_str(json.dumps({"id": "last", "cmd": "status"}))

        writer = asyncio.ensure_future(write())
        replies: list[dict[str, Any]] = []
        while True:
            msg = await ws.receive(timeout=60)
            assert msg.type.name in ("TEXT", "BINARY"), f"the socket ended: {msg}"
            if msg.type.name == "TEXT":
                doc = json.loads(msg.data)
                if doc["type"] == "reply":
                    if doc["id"] == "last":
                        await writer
                        await ws.close()
                        return replies, doc
                    replies.append(doc)

    threads, rss = threading.active_count(), _rss_mib()
    replies, last = live.run(campaign())
    assert len(replies) == len(messages)
    assert all(r["ok"] is False and r["error_type"] == "BadMessage" and "internal error" not in r["error"]
               for r in replies), [r for r in replies if r.get("error_type") != "BadMessage"][:3]
    assert last["ok"] and last["result"]["type"] == "status"
    assert live.slots_free()
    assert threading.active_count() <= threads + 1 and _rss_mib() < rss + 64


def test_a_socket_that_writes_and_never_reads_is_closed(live: LiveStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies are never dropped, so a client that only writes stops being read; once its replies have waited
    ``SLOW_READER_SECONDS`` it is closed and its game's slot is free, while another tab plays on."""
    import asyncio

    from retro.studio import server

    monkeypatch.setattr(server, "SLOW_READER_SECONDS", 2.0)

    async def flood() -> tuple[bool, dict[str, Any]]:
        other, _ = await live.connect()
        ws, hello = await live.connect()
        assert hello["ok"]
        closed = False
        start = time.monotonic()
        try:
            while time.monotonic() - start < 60:  # writes until the server stops reading, then closes it
                await asyncio.wait_for(ws.send_str('{"id": 1, "cmd": "nope"}'), 5)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # drain what the server sent before it closed the socket
            msg = await ws.receive(timeout=60)
            if msg.type.name in ("CLOSE", "CLOSED", "CLOSING", "ERROR"):
                closed = True
                break
        reply = (await ask(other, '{"id": 2, "cmd": "nope"}'))[0]
        await close_all([ws, other])
        return closed, reply

    closed, reply = live.run(flood(), timeout=180)
    assert closed, "the server kept a socket that reads nothing"
    assert reply["error_type"] == "BadMessage"  # the other tab was answered all along
    assert live.slots_free()


def test_random_malformed_messages_never_give_an_internal_error(live: LiveStudio) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from retro.studio.protocol import BadMessage, parse_message

    ws, hello = live.run(live.connect())
    assert hello["ok"]
    scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**80, max_value=2**80)
               | st.floats() | st.text(max_size=20) | st.sampled_from(["", "|u1", ">u2", "../x", "\0", 10**400, -2**64]))
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
    # commands whose schema-valid forms only read (or are harmless), so a message that happens to be valid is cheap
    cmds = st.sampled_from(["status", "describe", "files", "candidates", "watch", "scenario", "validate_scenario",
                            "search_value", "search_relation", "speed", "pause", "input", "step", "seek", "nope"])
    messages = st.one_of(
        st.fixed_dictionaries({"id": values, "cmd": cmds, "args": values}).map(json.dumps),
        st.fixed_dictionaries({"id": st.integers(0, 100), "cmd": cmds},
                              optional={"args": st.dictionaries(st.sampled_from(
                                  ["frames", "name", "speed", "value", "doc", "paused", "frame", "x"]), values),
                                  "mask": values}).map(json.dumps),
        values.map(json.dumps),
        st.text(max_size=60),
    )

    def run_example(text: str) -> None:
        try:
            message = parse_message(text)
        except BadMessage:
            message = None
        if message is not None and message.cmd == "step" and message.args.get("frames", 1) > 30:
            return  # valid and slow: not what this property is about
        for reply in live.run(ask(ws, text)):
            assert "internal error" not in reply["error" if not reply["ok"] else "type"], (text, reply)
            if not reply["ok"]:
                assert reply.get("error_type"), reply
            if message is None:
                assert reply["error_type"] == "BadMessage" and reply["field"], (text, reply)

    try:
        settings(max_examples=60, deadline=None)(given(messages)(run_example))()
    finally:
        live.run(ws.close())


def test_the_parser_refuses_any_text_with_a_typed_error() -> None:
    """Whatever bytes or text arrive, :func:`parse_message` returns a message or raises :class:`BadMessage`."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from retro.studio.protocol import BadMessage, parse_message

    pieces = st.sampled_from(['{"id": 1, "cmd": "step", "args": {"frames": ', "[", "]", "{", "}", '"', "\\", ",", ":",
                              "NaN", "Infinity", "-Infinity", "1e400", "9" * 30, "null", "true", '"cmd"', '"args"'])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=40).map("".join) | st.text(max_size=80) | st.binary(max_size=80))
    def check(text: str | bytes) -> None:
        try:
            parse_message(text)
        except BadMessage as e:
            assert e.field and str(e).startswith(e.field + ":")

    check()
