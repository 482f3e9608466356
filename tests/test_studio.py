"""Retro Studio end to end: the real server (``python3 -m retro studio``) on a real core, driven by
Debian's Chromium through Playwright, plus its security rules (token, file names, loopback)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
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
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1)
            if not ready:
                continue
            line = self.proc.stdout.readline()
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
