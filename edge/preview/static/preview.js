/**
 * The live page (index.html): one WebSocket to the preview server (docs/preview.md), frames
 * drawn as they come, newest first, and the panels kept up to date from each frame header and
 * the once-a-second `state`.
 *
 * Frames are decoded one at a time (frames.js: a slow page skips, it never queues); the newest
 * decoded frame is drawn on the next animation frame, and the page then tells the server when
 * it drew it (`drawn`, mapped to the server's clock with clock.js). The page asks for `styled`
 * only, and for `raw` or `depth` while a view or a tool needs them (view.js neededParts()).
 *
 * window.onsetPreview exposes what the page drew for tests and for a look from the console:
 * {lastFrame: {seq, frame_index, timecode, look}, framesDrawn, clock: {offset_ms, uncertainty_ms}}.
 */

import { ClockSync, pingIntervalMs } from "./clock.js";
import { Connection, socketUrl } from "./connection.js";
import { loadToken, saveToken, authHeaders } from "./token.js";
import { FrameDecoder, closeFrame } from "./frames.js";
import { Viewer, neededParts } from "./view.js";
import { Controls } from "./controls.js";
import { captionView, ShotSummary } from "./captions.js";
import { sensorRows, sourceRows, renderHealth, waitingForNode, SyncTally } from "./health.js";
import { LatencyWindow, pageStagesMs } from "./latency.js";
import { Banner, renderSlate, renderCaptions, renderFocus, renderLatency } from "./panels.js";
import { dofFromHeader, COC_RULES } from "./dof.js";
import { ARRI_LIKE_BANDS } from "./monitor.js";
import { actionFor, isTyping, renderHelp } from "./keys.js";
import { loadSettings, saveSettings, changeFromInput, changeForAction, showSettings, withChanges } from "./settings.js";

const byId = (id) => document.getElementById(id);
/** The page's clock, ms: what pings carry and `drawn` is mapped from (docs/preview.md, Clock). */
const nowMs = () => performance.timeOrigin + performance.now();
/** `drawn` messages a second at most (one per frame up to 120 fps): with the pings, under the server's 150 a second. */
const DRAWN_PER_S = 120;

const settings = loadSettings(); // shared with the viewer: changed in place
let token = loadToken();
let state = null;
let refused = null;
let current = null; // the frame on screen
let pending = null; // decoded, waiting for the next animation frame
let skippedLocal = 0;
let lastFrameAt = null;
let lastDecodeMs = null;
let requestedParts = null;
let pingTimer = null;
let drawQueued = false;
let drawnBudget = { at: 0, left: DRAWN_PER_S };
let lastTakeKey = null;

const clock = new ClockSync();
const summary = new ShotSummary();
const syncTally = new SyncTally();
const latency = { sent_to_drawn: new LatencyWindow(), exposure_to_drawn: new LatencyWindow() };
const banner = new Banner(byId("banner"));
const viewer = new Viewer({
  canvas: byId("image"), overlay: byId("overlay"), stage: byId("stage"),
  waveform: byId("waveform"), histogram: byId("histogram"), settings,
});
const controls = new Controls({ getToken: () => token, serverNowNs: () => clock.toServerNs(nowMs()) });
const decoder = new FrameDecoder(onDecoded, (text) => console.warn("preview frame:", text));

const published = {
  lastFrame: null,
  framesDrawn: 0,
  state: null,
  hello: null,
  get clock() {
    return { offset_ms: clock.offset_ms, uncertainty_ms: clock.uncertainty_ms };
  },
  get status() {
    return byId("status").textContent;
  },
  get parts() {
    return requestedParts;
  },
  get settings() {
    return { ...settings };
  },
  get toolsMs() {
    return viewer.toolsMs;
  },
  get skipped() {
    return skippedLocal + decoder.skipped;
  },
};
window.onsetPreview = published;

// ---- connection ---------------------------------------------------------------------------

function setStatus(text, level = "ok") {
  byId("status").textContent = text;
  byId("conn-dot").className = `dot level-${level}`;
}

/** After a failed handshake: does the server refuse the token, or is it away? (connection.js) */
async function probe() {
  let r;
  try {
    r = await fetch("/api/state", { headers: authHeaders(token), cache: "no-store" });
  } catch {
    return { refused: false, up: false, text: "server not reachable" };
  }
  if (r.status !== 401 && r.status !== 403) return { refused: false, up: true, text: `server up (${r.status})` };
  let words = `HTTP ${r.status}`;
  try {
    words = (await r.json()).error || words;
  } catch {
    // no JSON body: the status says enough
  }
  const what = token ? "the server refused this token" : "this server needs a token to watch";
  return { refused: true, up: true, text: `${what} (${r.status}): ${words}` };
}

const connection = new Connection({
  url: () => socketUrl(window.location, token),
  probe,
  onOpen() {
    refused = null;
    banner.hide("conn");
    setStatus("connected, waiting for hello", "wait");
    requestedParts = null;
    sendParts();
    schedulePing(0);
  },
  onText: onMessage,
  onBinary: (data) => decoder.offer(data),
  onStatus: setStatus,
  onClose(meaning) {
    clock.forgetPending();
    clearTimeout(pingTimer);
    if (meaning.kind !== "token") banner.show("conn", `${meaning.text[0].toUpperCase()}${meaning.text.slice(1)}: reconnecting…`, "warn");
  },
  onRefused(text) {
    refused = text;
    setStatus(token ? "token refused" : "token needed", "bad");
    banner.hide("conn");
    banner.show("token", token ? "The server refused this token" : "This server needs a token", "bad");
    showTokenPrompt(text);
  },
});

function schedulePing(delayMs) {
  clearTimeout(pingTimer);
  pingTimer = setTimeout(() => {
    if (!connection.open) return;
    connection.send(clock.ping(nowMs()));
    schedulePing(pingIntervalMs(performance.now() - connection.openedAt));
  }, delayMs);
}

function onMessage(message) {
  switch (message && message.type) {
    case "hello":
      published.hello = message;
      setStatus(`connected${message.viewer !== undefined ? ` (viewer ${message.viewer})` : ""}`, "ok");
      controls.setAllowed(message.controls);
      if (Array.isArray(message.looks)) controls.setLooks(message.looks, message.look);
      break;
    case "state":
      onState(message);
      break;
    case "pong":
      clock.pong(message, nowMs());
      break;
    case "error":
      console.warn("preview server:", message.error);
      break;
    default:
      break;
  }
}

function sendParts() {
  const parts = neededParts(settings);
  if (requestedParts !== null && requestedParts.join(",") === parts.join(",")) return;
  if (connection.send({ type: "parts", parts })) requestedParts = parts;
}

// ---- frames -------------------------------------------------------------------------------

function onDecoded(frame) {
  if (pending) {
    closeFrame(pending);
    skippedLocal++;
  }
  pending = frame;
  lastDecodeMs = frame.decodeMs;
  requestDraw();
}

function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(drawNow);
}

function drawNow() {
  drawQueued = false;
  const fresh = pending !== null;
  if (fresh) {
    closeFrame(current);
    current = pending;
    pending = null;
    viewer.setFrame(current);
  }
  if (!current) return;
  updateDof(current.header);
  viewer.draw();
  if (fresh) afterFreshDraw(current.header);
  else renderFocusPanel();
}

function afterFreshDraw(h) {
  const drawnMs = nowMs();
  lastFrameAt = performance.now();
  published.framesDrawn++;
  published.lastFrame = { seq: h.seq, frame_index: h.frame_index, timecode: h.timecode, look: h.look };
  const drawnNs = clock.toServerNs(drawnMs);
  if (drawnNs !== null) {
    if (takeDrawnBudget(drawnMs)) connection.send({ type: "drawn", seq: h.seq, drawn_ns: drawnNs });
    for (const [k, v] of Object.entries(pageStagesMs(h.stamps_ns, drawnNs))) if (v !== null) latency[k].push(v);
  }
  renderSlate(h, skippedLocal + decoder.skipped);
  if (h.caption !== undefined) {
    summary.add(h.caption, h.caption_frame_index ?? null, h.timecode ?? null);
    if (settings.captions) {
      renderCaptions(captionView(h.caption, h.caption_frame_index, h.frame_index), summary.summary(), h.shot || (h.caption && h.caption.shot) || null);
    }
  }
  syncTally.add(h.sync);
  if (state) updateHealth(h.sync);
  renderFocusPanel();
  banner.hide("frames");
}

function takeDrawnBudget(ms) {
  if (ms - drawnBudget.at >= 1000) drawnBudget = { at: ms, left: DRAWN_PER_S };
  if (drawnBudget.left <= 0) return false;
  drawnBudget.left--;
  return true;
}

function updateDof(header) {
  const size = viewer.pictureSize || { w: header.width, h: header.height };
  let dof;
  try {
    dof = dofFromHeader(header.lens, header.camera, size.w, size.h, settings.cocRule);
  } catch (err) {
    dof = { reason: err.message };
  }
  viewer.dof = dof.reason ? null : dof;
  viewer.dofReason = dof.reason || null;
}

function renderFocusPanel() {
  const dof = viewer.dof || { reason: viewer.dofReason || "no lens state yet" };
  renderFocus(dof, viewer.distanceAt(viewer.pin || viewer.cursor), settings.units, !!viewer.pin);
}

// ---- state --------------------------------------------------------------------------------

function onState(message) {
  state = message;
  published.state = message;
  controls.update(message);
  const take = message.take && message.take.take;
  const takeKey = take && message.take.state === "recording" ? take.name || `${take.scene}/${take.shot}/${take.take}` : null;
  if (takeKey !== null && takeKey !== lastTakeKey) summary.reset(); // a new take starts a new shot
  lastTakeKey = takeKey;
  updateHealth(current ? current.header.sync : null);
  const page = Object.fromEntries(Object.entries(latency).map(([k, w]) => [k, w.percentiles()]));
  renderLatency(message.latency, page, clock, viewer.toolsMs, lastDecodeMs);
  byId("viewers").textContent = message.viewers !== undefined ? `${message.viewers} viewer${message.viewers === 1 ? "" : "s"}` : "";
  if (waitingForNode(message.sources)) banner.show("node", "Waiting for the node…", "wait");
  else banner.hide("node");
}

function updateHealth(sync) {
  const age = lastFrameAt === null ? null : (performance.now() - lastFrameAt) / 1000;
  const health = (state && state.health) || {};
  renderHealth(byId("health-rows"), byId("sources"), sensorRows(health, sync, age, syncTally), sourceRows(state && state.sources), byId("health-dot"));
  const fused = health.fused || {};
  const words = [];
  if (health.node) words.push(`node ${health.node}`);
  if (typeof fused.fused_hz === "number") words.push(`fused ${fused.fused_hz.toFixed(1)} fps`);
  if (typeof fused.in_sync === "number") words.push(`all sensors in sync on ${(100 * fused.in_sync).toFixed(1)} % of the newest ${fused.recent_frames ?? ""} frames`);
  if (fused.without_timecode) words.push(`${fused.without_timecode} frames without timecode`);
  if (health.timecode_jumps) words.push(`${health.timecode_jumps} timecode jumps`);
  byId("node-summary").textContent = words.join(" · ");
}

function everySecond() {
  if (connection.open && lastFrameAt !== null) {
    const age = (performance.now() - lastFrameAt) / 1000;
    if (age >= 2) banner.show("frames", `No frame for ${age.toFixed(0)} s`, age >= 5 ? "bad" : "warn");
  }
  if (state) updateHealth(current ? current.header.sync : null);
  controls.renderRec();
}

// ---- settings, keys, pointer --------------------------------------------------------------

function showAll() {
  showSettings(document, settings);
  byId("zebra-level").textContent = `${settings.zebraPct} %`;
  document.body.classList.toggle("panel-hidden", !settings.panel);
  byId("captions").hidden = !settings.captions;
  byId("scopes").hidden = !(settings.waveform || settings.histogram);
  byId("waveform-box").hidden = !settings.waveform;
  byId("histogram-box").hidden = !settings.histogram;
  byId("false-colour-box").hidden = !settings.falseColour;
  byId("waveform-caption").textContent = `${settings.parade ? "RGB parade" : "Luma waveform"} · ${settings.scopeSource}`;
  byId("histogram-caption").textContent = `RGB histogram · ${settings.scopeSource}`;
  byId("image").classList.toggle("wiping", settings.mode === "wipe");
}

/** Change settings, then ask for the parts they need, redraw and remember them. */
function apply(changes) {
  if (!changes) return;
  Object.assign(settings, withChanges(settings, changes));
  showAll();
  sendParts();
  saveSettings(settings);
  layoutStage();
  requestDraw();
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event)) return;
  const entry = actionFor(event);
  if (!entry) return;
  event.preventDefault();
  if (entry.action === "help") {
    byId("help").hidden = !byId("help").hidden;
  } else if (entry.action === "escape") {
    byId("help").hidden = true;
    viewer.pin = null;
    requestDraw();
  } else {
    apply(changeForAction(entry.action, settings));
  }
}

function setupPointer() {
  const canvas = byId("image");
  let dragging = false;
  let downAt = null;
  const refresh = () => {
    viewer.drawOverlay();
    renderFocusPanel();
  };
  canvas.addEventListener("pointerdown", (e) => {
    downAt = { x: e.clientX, y: e.clientY };
    if (settings.mode === "wipe" && viewer.nearWipe(e.clientX, e.pointerType === "touch" ? 40 : 24)) {
      dragging = true;
      canvas.setPointerCapture(e.pointerId);
    }
  });
  canvas.addEventListener("pointermove", (e) => {
    if (dragging) {
      settings.wipe = viewer.wipeAt(e.clientX);
      requestDraw();
    } else if (e.pointerType !== "touch") {
      viewer.cursor = viewer.pointAt(e.clientX, e.clientY);
      refresh();
    }
  });
  canvas.addEventListener("pointerup", (e) => {
    if (dragging) {
      dragging = false;
      saveSettings(settings);
    } else if (downAt && Math.hypot(e.clientX - downAt.x, e.clientY - downAt.y) < 8) {
      // a click or a tap pins the distance readout there; on the pinned point, unpins it
      const p = viewer.pointAt(e.clientX, e.clientY);
      const same = viewer.pin && p && Math.hypot(viewer.pin.u - p.u, viewer.pin.v - p.v) < 0.02;
      viewer.pin = same ? null : p;
      refresh();
    }
    downAt = null;
  });
  canvas.addEventListener("pointerleave", () => {
    if (dragging) return;
    viewer.cursor = null;
    refresh();
  });
}

function layoutStage() {
  const maxH = Math.max(160, window.innerHeight - byId("topbar").offsetHeight - byId("slate").offsetHeight - 24);
  viewer.fit(byId("stage").clientWidth, maxH);
  viewer.drawOverlay();
}

// ---- token --------------------------------------------------------------------------------

/** The takes page link carries the token in its fragment, so it works in a new tab too. */
function linkTakes() {
  byId("takes-link").href = token ? `/takes#token=${encodeURIComponent(token)}` : "/takes";
}

function showTokenPrompt(error = "") {
  byId("token-error").textContent = error;
  byId("token-error").hidden = !error;
  byId("token-input").value = "";
  byId("token-prompt").hidden = false;
  byId("token-input").focus();
}

function useToken(given) {
  token = given;
  saveToken(token);
  linkTakes();
  byId("token-prompt").hidden = true;
  banner.hide("token");
  connection.stop();
  connection.start();
}

function setupTokenPrompt() {
  byId("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const given = byId("token-input").value.trim();
    if (given) useToken(given);
  });
  byId("token-skip").addEventListener("click", () => {
    byId("token-prompt").hidden = true;
    if (refused) useToken(null); // try again without one: the server may let anyone watch
  });
  byId("token-button").addEventListener("click", () => showTokenPrompt(refused || ""));
}

// ---- start --------------------------------------------------------------------------------

function start() {
  linkTakes();
  byId("coc-rule").replaceChildren(...Object.entries(COC_RULES).map(([id, r]) => new Option(r.label, id)));
  const legend = byId("fc-legend").tBodies[0];
  for (const band of ARRI_LIKE_BANDS) {
    const tr = legend.insertRow();
    const swatch = tr.insertCell();
    swatch.className = "swatch";
    swatch.style.background = `rgb(${band.rgb.join(",")})`;
    tr.insertCell().textContent = `${band.loPct}–${band.hiPct} %`;
    tr.insertCell().textContent = band.name;
  }
  renderHelp(byId("help-rows"));
  byId("help-button").addEventListener("click", () => (byId("help").hidden = !byId("help").hidden));
  byId("help-close").addEventListener("click", () => (byId("help").hidden = true));
  document.addEventListener("keydown", onKey);
  for (const type of ["input", "change"]) document.addEventListener(type, (e) => apply(changeFromInput(e.target)));
  byId("stage").addEventListener("picture-resized", layoutStage);
  window.addEventListener("resize", layoutStage);
  setupPointer();
  setupTokenPrompt();
  showAll();
  layoutStage();
  renderFocusPanel();
  setInterval(everySecond, 1000);
  if (!token) showTokenPrompt("");
  connection.start();
}

start();
