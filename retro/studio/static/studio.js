// Retro Studio's page: frames from the WebSocket onto the canvas, input back, and the tools' forms.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const $ = (id) => document.getElementById(id);
const studio = { ws: null, info: null, pending: new Map(), nextId: 1, keyMask: 0, padMask: 0, sentMask: -1,
                 framesSeen: 0, fps: 0, fpsHistory: [], scenario: null, digest: null, playback: null };
window.studio = studio;

function say(text, error) {
  const m = $("message");
  m.textContent = text;
  m.className = error ? "error" : "";
}

function api(path, extra) {
  const q = new URLSearchParams(extra || {});
  q.set("token", token);
  return path + "?" + q.toString();
}

function cmd(name, args) {
  return new Promise((resolve, reject) => {
    if (!studio.ws || studio.ws.readyState !== WebSocket.OPEN) { reject(new Error("not connected")); return; }
    const id = studio.nextId++;
    studio.pending.set(id, { resolve, reject });
    studio.ws.send(JSON.stringify({ id, cmd: name, args: args || {} }));
  });
}
studio.cmd = cmd;

async function run(name, args, done) {
  try {
    const result = await cmd(name, args);
    if (done) done(result);
    return result;
  } catch (e) {
    say(e.message, true);
    return null;
  }
}

// -- frames -------------------------------------------------------------------------------
const canvas = $("screen");
const ctx = canvas.getContext("2d");
let image = null;

function drawFrame(buffer) {
  const view = new DataView(buffer);
  if (view.getUint8(0) !== 1) return;
  const flags = view.getUint8(1), w = view.getUint16(2, true), h = view.getUint16(4, true);
  const frame = view.getUint32(8, true), reward = view.getFloat32(12, true), total = view.getFloat32(16, true);
  if (!image || image.width !== w || image.height !== h) {
    canvas.width = w; canvas.height = h;
    image = ctx.createImageData(w, h);
    const px = image.data;
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
  }
  const rgb = new Uint8Array(buffer, 20), px = image.data;
  for (let i = 0, j = 0, n = w * h; i < n; i++, j += 3) {
    const k = i * 4;
    px[k] = rgb[j]; px[k + 1] = rgb[j + 1]; px[k + 2] = rgb[j + 2];
  }
  ctx.putImageData(image, 0, 0);
  studio.framesSeen++;
  $("frame").textContent = frame;
  $("reward").textContent = +reward.toFixed(3);
  $("total").textContent = +total.toFixed(3);
  $("done").textContent = flags & 1 ? "yes" : "no";
  $("pause").textContent = flags & 2 ? "Play" : "Pause";
  $("rec-flag").hidden = !(flags & 4);
}

// the page's own frame counter: frames drawn in the last second
let lastCount = 0, lastTime = performance.now();
setInterval(() => {
  const now = performance.now();
  studio.fps = (studio.framesSeen - lastCount) * 1000 / (now - lastTime);
  lastCount = studio.framesSeen; lastTime = now;
  studio.fpsHistory.push(studio.fps);
  if (studio.fpsHistory.length > 600) studio.fpsHistory.shift();
  $("fps").textContent = studio.fps.toFixed(1);
}, 1000);

// -- input --------------------------------------------------------------------------------
const KEYS = { UP: "ArrowUp", DOWN: "ArrowDown", LEFT: "ArrowLeft", RIGHT: "ArrowRight", START: "Enter",
               RUN: "Enter", PAUSE: "Enter", RESET: "Enter", SELECT: "Tab", MODE: "Tab", B: "KeyZ", BUTTON: "KeyZ",
               II: "KeyZ", A: "KeyX", I: "KeyX", C: "KeyC", III: "KeyC", Y: "KeyA", IV: "KeyA", X: "KeyS", V: "KeyS",
               Z: "KeyD", VI: "KeyD", L: "KeyQ", R: "KeyW" };
// the Gamepad API's standard mapping: button index -> our button names, first that the system has
const PAD = { 0: ["B", "BUTTON", "II"], 1: ["A", "I"], 2: ["Y", "III"], 3: ["X", "IV"], 4: ["L", "C", "V"],
              5: ["R", "Z", "VI"], 8: ["SELECT", "MODE"], 9: ["START", "RESET", "PAUSE", "RUN"], 12: ["UP"],
              13: ["DOWN"], 14: ["LEFT"], 15: ["RIGHT"] };

function bitOf(name) {
  const i = studio.info ? studio.info.buttons.indexOf(name) : -1;
  return i < 0 ? 0 : 1 << i;
}

function keyBits(code) {
  let bits = 0;
  if (!studio.info) return 0;
  for (const name of studio.info.buttons) if (name && KEYS[name] === code) bits |= bitOf(name);
  return bits;
}

function sendInput() {
  const mask = studio.keyMask | studio.padMask;
  if (mask === studio.sentMask || !studio.ws || studio.ws.readyState !== WebSocket.OPEN) return;
  studio.sentMask = mask;
  studio.ws.send(JSON.stringify({ cmd: "input", mask }));
  document.querySelectorAll("#buttons span").forEach((el) => el.classList.toggle("on", !!(mask & +el.dataset.bit)));
}

function typing(e) { return /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) && e.target.type !== "range"; }
document.addEventListener("keydown", (e) => {
  if (typing(e)) return;
  const bits = keyBits(e.code);
  if (bits) { e.preventDefault(); studio.keyMask |= bits; sendInput(); }
});
document.addEventListener("keyup", (e) => {
  const bits = keyBits(e.code);
  if (bits) { studio.keyMask &= ~bits; sendInput(); }
});
window.addEventListener("blur", () => { studio.keyMask = 0; sendInput(); });

function pollPads() {
  let mask = 0;
  for (const pad of navigator.getGamepads ? navigator.getGamepads() : []) {
    if (!pad) continue;
    pad.buttons.forEach((b, i) => {
      if (b.pressed && PAD[i]) {
        const name = PAD[i].find((n) => bitOf(n));
        if (name) mask |= bitOf(name);
      }
    });
    const [x, y] = pad.axes;
    if (x < -0.5) mask |= bitOf("LEFT");
    if (x > 0.5) mask |= bitOf("RIGHT");
    if (y < -0.5) mask |= bitOf("UP");
    if (y > 0.5) mask |= bitOf("DOWN");
  }
  if (mask !== studio.padMask) { studio.padMask = mask; sendInput(); }
  requestAnimationFrame(pollPads);
}
requestAnimationFrame(pollPads);

// -- connection ---------------------------------------------------------------------------
function connect(game, state) {
  if (studio.ws) studio.ws.close();
  const q = { game };
  if (state) q.state = state;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(proto + "//" + location.host + api("/ws", q));
  ws.binaryType = "arraybuffer";
  studio.ws = ws;
  studio.sentMask = -1;
  say("opening " + game + "…");
  ws.onmessage = (ev) => {
    if (typeof ev.data !== "string") { drawFrame(ev.data); return; }
    const msg = JSON.parse(ev.data);
    if (msg.type === "reply") {
      const p = studio.pending.get(msg.id);
      if (!p) return;
      studio.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result); else p.reject(new Error(msg.error));
    } else if (msg.type === "hello") {
      if (!msg.ok) { ws.failed = true; say(msg.error, true); return; }
      hello(msg);
    } else if (msg.type === "status") {
      status(msg);
    } else if (msg.type === "export") {
      exported(msg);
    } else if (msg.type === "error") {
      say(msg.error, true);
    }
  };
  ws.onclose = () => { if (studio.ws === ws && !ws.failed) say("disconnected", true); };
}

function hello(info) {
  studio.info = info;
  $("game-name").textContent = info.game + " (" + info.system + ", " + info.fps.toFixed(2) + " fps)";
  $("folder").textContent = info.folder;
  const chips = $("buttons");
  chips.innerHTML = "";
  info.buttons.forEach((name, i) => {
    if (!name) return;
    const el = document.createElement("span");
    el.textContent = name + (KEYS[name] ? " [" + KEYS[name].replace(/^Key|^Arrow/, "") + "]" : "");
    el.dataset.bit = String(1 << i);
    el.dataset.name = name;
    chips.appendChild(el);
  });
  files(info);
  loadScenario();
  say(info.game + " from " + (info.state || "power on"));
  sendInput();
}

function fill(select, names, chosen) {
  select.innerHTML = "";
  for (const n of names) {
    const o = document.createElement("option");
    o.textContent = n; o.value = n;
    if (n === chosen) o.selected = true;
    select.appendChild(o);
  }
}

function files(f) {
  if (f.states) fill($("state-list"), f.states, f.default_state);
  $("default-state").textContent = f.default_state ? "default: " + f.default_state : "no default state";
  if (f.movies) fill($("movie-list"), f.movies);
  if (f.variables) { studio.info.variables = f.variables; renderVariables(f.variables); renderScenario(); }
  if (f.videos) {
    const ul = $("videos");
    ul.innerHTML = "";
    for (const v of f.videos) {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = api("/api/file", { game: studio.info.game, name: v }); a.textContent = v;
      li.appendChild(a); ul.appendChild(li);
    }
  }
}

function status(s) {
  for (const [name, value] of Object.entries(s.values || {})) {
    const cell = document.querySelector(`#variables tr[data-name="${CSS.escape(name)}"] td.value`);
    if (cell) cell.textContent = value;
  }
  if (s.search) renderCandidates(s.search);
  $("record").disabled = !!s.recording;
  $("record-stop").disabled = !s.recording;
  studio.playback = s.playback;
  if (s.playback) {
    $("movie-frame").textContent = s.playback.frame;
    $("movie-total").textContent = s.playback.total;
    const seek = $("movie-seek");
    seek.max = s.playback.total;
    if (document.activeElement !== seek) seek.value = s.playback.frame;
  } else {
    $("movie-frame").textContent = "-"; $("movie-total").textContent = "-";
  }
}

// -- play controls ------------------------------------------------------------------------
$("pause").onclick = () => run("pause", { paused: $("pause").textContent === "Pause" });
$("advance").onclick = () => run("step", { frames: 1 });
$("reset").onclick = () => run("reset");
$("speed").onchange = () => run("speed", { speed: +$("speed").value });
$("state-load").onclick = () => run("load_state", { name: $("state-list").value }, () => say("loaded " + $("state-list").value));
$("state-default").onclick = () => run("default_state", { name: $("state-list").value }, files);
$("state-save").onclick = () => run("save_state", { name: $("state-name").value }, (r) => { files(r); say("saved " + r.path); });
$("game-open").onclick = () => connect($("game-pick").value.trim());

// -- RAM search ---------------------------------------------------------------------------
const searchName = () => $("search-name").value.trim();
$("search-start").onclick = () => {
  const types = $("search-types").value.split(/[\s,]+/).filter(Boolean);
  run("search_start", { name: searchName(), types }, renderCandidates);
};
$("search-exact").onclick = () => run("search_value", { name: searchName(), value: +$("search-value").value }, renderCandidates);
$("search-narrow").onclick = () => run("search_relation",
  { name: searchName(), relation: $("search-relation").value, delta: +$("search-delta").value }, renderCandidates);

function renderCandidates(r) {
  if (!r || r.name !== searchName()) return;
  $("search-count").textContent = r.count === null ? "all" : r.count;
  $("search-places").textContent = r.places === undefined ? "" : "(" + r.places + (r.places === 1 ? " place)" : " places)");
  $("search-steps").textContent = r.steps.join(" → ");
  const body = document.querySelector("#candidates tbody");
  body.innerHTML = "";
  for (const c of r.candidates) {
    const tr = document.createElement("tr");
    tr.dataset.address = c.address;
    const enc = (c.mult !== 1 ? "×" + c.mult : "") + (c.div !== 1 ? "÷" + c.div : "") + (c.bias ? (c.bias > 0 ? "+" : "") + c.bias : "");
    for (const text of ["0x" + c.address.toString(16), c.types.join(" "), enc || "plain", c.value]) {
      const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
    }
    const td = document.createElement("td"), b = document.createElement("button");
    b.textContent = "use"; b.className = "use";
    b.onclick = () => { $("promote-address").value = c.address; $("promote-type").value = c.types[0]; $("promote-name").focus(); };
    td.appendChild(b); tr.appendChild(td); body.appendChild(tr);
  }
}

$("promote").onclick = () => {
  const address = $("promote-address").value.trim();
  run("set_variable", { name: $("promote-name").value.trim(), address: Number(address), type: $("promote-type").value.trim() },
      (r) => { files(r); say("saved variable " + $("promote-name").value); });
};

function renderVariables(vars) {
  const body = document.querySelector("#variables tbody");
  body.innerHTML = "";
  for (const [name, v] of Object.entries(vars).sort()) {
    const tr = document.createElement("tr");
    tr.dataset.name = name;
    for (const [cls, text] of [["name", name], ["address", "0x" + v.address.toString(16)], ["type", v.type], ["value", ""]]) {
      const td = document.createElement("td"); td.className = cls; td.textContent = text; tr.appendChild(td);
    }
    const td = document.createElement("td"), b = document.createElement("button");
    b.textContent = "remove";
    b.onclick = () => run("remove_variable", { name }, files);
    td.appendChild(b); tr.appendChild(td); body.appendChild(tr);
  }
}

// -- scenario -----------------------------------------------------------------------------
async function loadScenario() {
  const r = await run("scenario");
  if (!r) return;
  studio.scenario = r.doc; studio.digest = r.digest;
  renderScenario();
}

function specRow(table, name, spec, withReward, remove) {
  const tr = document.createElement("tr");
  tr.dataset.name = name;
  const cell = (el) => { const td = document.createElement("td"); td.appendChild(el); tr.appendChild(td); return el; };
  const select = (options, value, key) => {
    const s = document.createElement("select");
    fill(s, options, value);
    s.dataset.key = key;
    return cell(s);
  };
  const number = (value, key) => {
    const i = document.createElement("input");
    i.type = "number"; i.step = "any"; i.size = 6; i.value = value; i.dataset.key = key;
    return cell(i);
  };
  const vars = Object.keys(studio.info.variables || {});
  if (!vars.includes(name)) vars.push(name);
  select(vars, name, "variable");
  select(["delta", "absolute"], spec.measurement || (withReward ? "delta" : "absolute"), "measurement");
  select(["", ...studio.info.ops], spec.op || "", "op");
  number(spec.reference || 0, "reference");
  if (withReward) { number(spec.reward || 0, "reward"); number(spec.penalty || 0, "penalty"); }
  const b = document.createElement("button");
  b.textContent = "remove"; b.onclick = remove;
  cell(b);
  tr.addEventListener("change", () => readTables());
  table.appendChild(tr);
}

function section(doc, key) {
  doc[key] = doc[key] || {};
  doc[key].variables = doc[key].variables || {};
  return doc[key].variables;
}

function renderScenario() {
  const doc = studio.scenario;
  if (!doc || !studio.info) return;
  const rewards = section(doc, "reward"), dones = section(doc, "done");
  const rt = document.querySelector("#reward-table tbody"), dt = document.querySelector("#done-table tbody");
  rt.innerHTML = ""; dt.innerHTML = "";
  for (const [n, s] of Object.entries(rewards)) specRow(rt, n, s, true, () => { delete rewards[n]; renderScenario(); });
  for (const [n, s] of Object.entries(dones)) specRow(dt, n, s, false, () => { delete dones[n]; renderScenario(); });
  $("done-condition").value = doc.done.condition || "any";
  $("scenario-json").value = JSON.stringify(doc, null, 2);
}

function readTables() {
  const doc = studio.scenario;
  const read = (table, withReward) => {
    const out = {};
    for (const tr of document.querySelectorAll(table + " tbody tr")) {
      const get = (k) => tr.querySelector(`[data-key="${k}"]`).value;
      const spec = { measurement: get("measurement") };
      if (get("op")) { spec.op = get("op"); spec.reference = Number(get("reference")); }
      if (withReward) { spec.reward = Number(get("reward")); if (Number(get("penalty"))) spec.penalty = Number(get("penalty")); }
      out[get("variable")] = spec;
    }
    return out;
  };
  doc.reward.variables = read("#reward-table", true);
  doc.done.variables = read("#done-table", false);
  doc.done.condition = $("done-condition").value;
  renderScenario();
}
$("done-condition").onchange = readTables;

function firstFree(vars) {
  const names = Object.keys(studio.info.variables || {});
  return names.find((n) => !(n in vars)) || names[0];
}
$("reward-add").onclick = () => {
  const vars = section(studio.scenario, "reward"), n = firstFree(vars);
  if (!n) { say("define a variable first", true); return; }
  vars[n] = { reward: 1 }; renderScenario();
};
$("done-add").onclick = () => {
  const vars = section(studio.scenario, "done"), n = firstFree(vars);
  if (!n) { say("define a variable first", true); return; }
  vars[n] = { op: "zero" }; renderScenario();
};
$("scenario-from-json").onclick = () => {
  try { studio.scenario = JSON.parse($("scenario-json").value); renderScenario(); } catch (e) { say("not JSON: " + e.message, true); }
};
function scenarioResult(text, error) { const r = $("scenario-result"); r.textContent = text; r.className = error ? "error" : ""; }
$("scenario-validate").onclick = async () => {
  try { await cmd("validate_scenario", { doc: studio.scenario }); scenarioResult("valid"); } catch (e) { scenarioResult(e.message, true); }
};
$("scenario-save").onclick = async () => {
  try {
    const r = await cmd("save_scenario", { doc: studio.scenario, digest: studio.digest });
    studio.scenario = r.doc; studio.digest = r.digest; renderScenario();
    scenarioResult("saved and applied");
  } catch (e) { scenarioResult(e.message, true); }
};

// -- movies -------------------------------------------------------------------------------
$("record").onclick = () => run("record_start", { name: $("movie-name").value.trim() }, () => say("recording"));
$("record-stop").onclick = () => run("record_stop", {}, (r) => { files(r); studio.lastRecording = r; say("wrote " + r.path + " (" + r.frames + " frames)"); });
$("movie-open").onclick = () => run("open_movie", { name: $("movie-list").value });
$("movie-play").onclick = () => run("play_movie", { playing: !studio.playback || $("pause").textContent === "Play" });
$("movie-close").onclick = () => run("close_movie", {}, () => say("movie closed"));
$("movie-seek").onchange = () => run("seek", { frame: +$("movie-seek").value });
$("movie-export").onclick = () => { $("export-result").textContent = ""; run("export_movie", { name: $("movie-list").value }); };
function exported(m) {
  const bar = $("export-progress");
  if (m.error) { $("export-result").textContent = m.error; $("export-result").className = "error"; return; }
  if (m.total) { bar.max = m.total; bar.value = m.done; }
  if (m.finished) {
    bar.max = 1; bar.value = 1;
    $("export-result").className = "";
    $("export-result").textContent = "wrote " + m.video;
    run("files", {}, files);
  }
}
$("movie-upload-go").onclick = async () => {
  const file = $("movie-upload").files[0];
  if (!file) return;
  const r = await fetch(api("/api/movie", { game: studio.info.game, name: file.name }), { method: "POST", body: file });
  const body = await r.json();
  if (!r.ok) { say(body.error, true); return; }
  run("files", {}, files);
};

// -- new integration ----------------------------------------------------------------------
$("new-create").onclick = async () => {
  const file = $("new-rom").files[0];
  if (!file) { say("choose a ROM file", true); return; }
  const r = await fetch(api("/api/new", { filename: file.name, name: $("new-name").value.trim() }), { method: "POST", body: file });
  const body = await r.json();
  if (!r.ok) { say(body.error, true); return; }
  connect(body.game);
};

// -- tabs, start ----------------------------------------------------------------------------
document.querySelectorAll("nav button").forEach((b) => b.onclick = () => {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".tab").forEach((t) => t.hidden = t.id !== "tab-" + b.dataset.tab);
});

(async () => {
  const config = await (await fetch(api("/api/config"))).json();
  const game = params.get("game") || config.game;
  fetch(api("/api/games")).then((r) => r.json()).then((games) => fill($("game-list"), games));
  if (game) { $("game-pick").value = game; connect(game, params.get("state") || config.state); }
  else say("choose a game");
})();
