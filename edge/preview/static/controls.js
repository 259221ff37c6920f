/**
 * Take, look and engine controls: the REST calls of docs/preview.md ("REST") and the panel
 * that drives them. Each call sends the token as `Authorization: Bearer`; a refusal (401/403)
 * is said as such, a 409 on take start shows the next free take the server names and puts it
 * in the take field (the take is not started: the crew decides). The take field goes up by one
 * after each take stops (from the stopped take's number, however it was stopped).
 */

import { authHeaders, withTokenQuery } from "./token.js";

/** Call the server's API; never throws: {ok, status, body, error}. */
export async function apiRequest(method, path, token, body = undefined) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: authHeaders(token, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    return { ok: false, status: 0, body: null, error: `server not reachable (${err.message})` };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const error = response.ok ? null : (data && data.error) || `HTTP ${response.status}`;
  return { ok: response.ok, status: response.status, body: data, error };
}

/** The next free take a 409 names: a field of the body, else "take N" in its words. */
export function nextTakeFrom409(body) {
  if (!body || typeof body !== "object") return null;
  for (const key of ["next_take", "next_free_take", "suggested_take", "next"]) {
    const v = body[key];
    if (Number.isSafeInteger(v) && v > 0) return v;
    if (v && typeof v === "object" && Number.isSafeInteger(v.take)) return v.take;
  }
  const m = /next (?:free )?take(?: is|:)?\s*(\d+)/i.exec(String(body.error || ""));
  return m ? Number(m[1]) : null;
}

/** The recorder's state from `state.take`: {rolling, failed, info} (info: the take, or null). */
export function takeState(take) {
  if (!take || typeof take !== "object") return { rolling: false, failed: false, info: null, known: false };
  const info = take.take && typeof take.take === "object" ? take.take : take.scene !== undefined ? take : null;
  const state = take.state || (take.recording ? "recording" : "idle");
  return { rolling: state === "recording", failed: state === "failed", info, known: true, error: take.error || null };
}

export function slateText(info) {
  if (!info) return "—";
  return `Sc ${info.scene} / Sh ${info.shot} / Tk ${info.take}`;
}

const byId = (id) => document.getElementById(id);

export class Controls {
  constructor({ getToken, say, serverNowNs }) {
    this.getToken = getToken;
    this.say = say; // say(text, level) in the take/look message line
    this.serverNowNs = serverNowNs;
    this.allowed = true;
    this.rolling = false;
    this.rollingInfo = null;
    this.serverLook = null;
    this.looks = [];
    this.engines = {};
    this._lookBusy = false;
    this._takeKnown = false;
    this._engineBusy = new Set();
    this.el = {
      scene: byId("scene"), shot: byId("shot"), take: byId("take"),
      start: byId("take-start"), stop: byId("take-stop"), rec: byId("rec"), takeMsg: byId("take-msg"),
      look: byId("look-select"), lookMsg: byId("look-msg"), cube: byId("look-cube"), cubeSize: byId("cube-size"),
      engines: byId("engines"), controlsNote: byId("controls-note"),
    };
    this.el.start.addEventListener("click", () => this.startTake());
    this.el.stop.addEventListener("click", () => this.stopTake());
    this.el.look.addEventListener("change", () => this.chooseLook(this.el.look.value));
    this.el.cubeSize.addEventListener("change", () => this._cubeLink());
    this._restoreSlate();
    for (const k of ["scene", "shot", "take"]) this.el[k].addEventListener("change", () => this._saveSlate());
  }

  _restoreSlate() {
    try {
      const saved = JSON.parse(localStorage.getItem("onset.preview.slate") || "null");
      if (saved) for (const k of ["scene", "shot", "take"]) if (saved[k]) this.el[k].value = saved[k];
    } catch {
      // nothing saved
    }
  }

  _saveSlate() {
    try {
      localStorage.setItem("onset.preview.slate", JSON.stringify({ scene: this.el.scene.value, shot: this.el.shot.value, take: this.el.take.value }));
    } catch {
      // storage refused
    }
  }

  _msg(el, text, level = "ok") {
    el.textContent = text || "";
    el.className = `msg level-${level}`;
  }

  /** From `hello`: whether this token may control. */
  setAllowed(allowed) {
    this.allowed = allowed !== false;
    document.body.classList.toggle("view-only", !this.allowed);
    this.el.controlsNote.textContent = this.allowed ? "" : "View only: this page's token does not allow controls.";
    this._takeButtons();
    this.el.look.disabled = !this.allowed;
    for (const box of this.el.engines.querySelectorAll("input")) box.disabled = !this.allowed;
  }

  _takeButtons() {
    this.el.start.disabled = !this.allowed || this.rolling;
    this.el.stop.disabled = !this.allowed || (!this.rolling && this._takeKnown);
    for (const k of ["scene", "shot", "take"]) this.el[k].readOnly = this.rolling;
  }

  /** From `state`: take, looks, engines. */
  update(state) {
    if ("take" in state) this._takeFromState(state.take);
    if (Array.isArray(state.looks)) this.setLooks(state.looks, state.look);
    else if ("look" in state) this.setLooks(this.looks, state.look);
    if (state.engines && typeof state.engines === "object") this._enginesFromState(state.engines);
  }

  _takeFromState(take) {
    const t = takeState(take);
    this._takeKnown = t.known;
    const was = this.rolling ? this.rollingInfo : null;
    this.rolling = t.rolling;
    if (t.rolling && t.info) {
      this.rollingInfo = t.info;
      this.el.scene.value = t.info.scene;
      this.el.shot.value = t.info.shot;
      this.el.take.value = t.info.take;
    } else if (was && !t.rolling) {
      this._afterStop(was);
    }
    if (!t.rolling) this.rollingInfo = null;
    this._lastTake = t;
    this._takeButtons();
    this.renderRec();
  }

  /** Redraw the REC indicator (also every second from the page, for the elapsed time). */
  renderRec() {
    const t = this._lastTake || takeState(null);
    const rec = this.el.rec;
    if (this.rolling && this.rollingInfo) {
      const info = this.rollingInfo;
      const now = this.serverNowNs();
      const elapsed = now !== null && typeof info.start_ns === "number" ? Math.max(0, (now - info.start_ns) / 1e9) : null;
      const clock = elapsed === null ? "" : ` ${Math.floor(elapsed / 60)}:${String(Math.floor(elapsed % 60)).padStart(2, "0")}`;
      rec.textContent = `● REC ${slateText(info)}${info.tc_in ? ` · in ${info.tc_in}` : ""}${clock}`;
      rec.className = "rec rolling";
    } else if (t && t.failed) {
      rec.textContent = `TAKE FAILED${t.error ? `: ${t.error}` : ""} — press Stop`;
      rec.className = "rec failed";
    } else {
      rec.textContent = "STBY";
      rec.className = "rec";
    }
  }

  _afterStop(info) {
    const take = Number(info && info.take);
    if (Number.isSafeInteger(take)) {
      this.el.take.value = String(take + 1);
      this._saveSlate();
    }
  }

  async startTake() {
    const scene = this.el.scene.value.trim();
    const shot = this.el.shot.value.trim();
    const take = Number(this.el.take.value);
    if (!scene || !shot) return this._msg(this.el.takeMsg, "Scene and shot are needed to roll.", "warn");
    if (!Number.isSafeInteger(take) || take < 1) return this._msg(this.el.takeMsg, "Take must be a whole number from 1.", "warn");
    this.el.start.disabled = true;
    const r = await apiRequest("POST", "/api/take/start", this.getToken(), { scene, shot, take });
    if (r.ok) {
      this.rolling = true;
      this.rollingInfo = (r.body && (r.body.take && typeof r.body.take === "object" ? r.body.take : r.body)) || { scene, shot, take };
      if (this.rollingInfo.take === undefined) this.rollingInfo = { scene, shot, take, ...this.rollingInfo };
      this._msg(this.el.takeMsg, `Rolling ${slateText({ scene, shot, take })}`, "ok");
      this._saveSlate();
    } else if (r.status === 409) {
      const next = nextTakeFrom409(r.body);
      if (next !== null) {
        this.el.take.value = String(next);
        this._saveSlate();
        this._msg(this.el.takeMsg, `${r.error}. The take field now says ${next}: press Roll to roll it.`, "warn");
      } else {
        this._msg(this.el.takeMsg, r.error, "warn");
      }
    } else if (r.status === 401 || r.status === 403) {
      this._msg(this.el.takeMsg, `Refused (${r.status}): ${r.error}. The token does not allow controls.`, "bad");
    } else {
      this._msg(this.el.takeMsg, `Could not roll: ${r.error}`, "bad");
    }
    this._takeButtons();
    this.renderRec();
  }

  async stopTake() {
    this.el.stop.disabled = true;
    const r = await apiRequest("POST", "/api/take/stop", this.getToken(), {});
    if (r.ok) {
      const info = (r.body && (r.body.take && typeof r.body.take === "object" ? r.body.take : r.body)) || this.rollingInfo;
      const stopped = info && info.take !== undefined ? info : this.rollingInfo || { take: Number(this.el.take.value) };
      this.rolling = false;
      this.rollingInfo = null;
      this._afterStop(stopped);
      const duration = info && typeof info.duration_s === "number" ? `, ${info.duration_s.toFixed(1)} s` : "";
      this._msg(this.el.takeMsg, `Cut: ${slateText(stopped)}${duration}`, "ok");
    } else if (r.status === 401 || r.status === 403) {
      this._msg(this.el.takeMsg, `Refused (${r.status}): ${r.error}`, "bad");
    } else {
      this._msg(this.el.takeMsg, `Could not stop: ${r.error}`, r.status === 409 ? "warn" : "bad");
    }
    this._takeButtons();
    this.renderRec();
  }

  /** The looks offered (`off` always among them) and the server's current one. */
  setLooks(looks, current) {
    const names = [...new Set(["off", ...looks.map(String)])];
    const same = names.length === this.looks.length && names.every((n, i) => n === this.looks[i]);
    if (!same) {
      this.looks = names;
      this.el.look.replaceChildren(...names.map((n) => new Option(n === "off" ? "off (no look)" : n, n)));
    }
    if (current !== undefined && current !== null) this.serverLook = String(current);
    if (!this._lookBusy && this.serverLook !== null && document.activeElement !== this.el.look) this.el.look.value = this.serverLook;
    this._cubeLink();
  }

  _cubeLink() {
    const a = this.el.cube;
    const name = this.serverLook;
    if (!name || name === "off") {
      a.removeAttribute("href");
      a.setAttribute("aria-disabled", "true");
      a.textContent = "no look to download";
      return;
    }
    const size = this.el.cubeSize.value || "33";
    a.href = withTokenQuery(`/api/looks/${encodeURIComponent(name)}.cube?size=${size}`, this.getToken());
    a.download = `${name}.cube`;
    a.removeAttribute("aria-disabled");
    a.textContent = `Download ${name}.cube`;
  }

  async chooseLook(name) {
    this._lookBusy = true;
    this._msg(this.el.lookMsg, `Switching to ${name}…`, "wait");
    const r = await apiRequest("POST", "/api/look", this.getToken(), { look: name });
    this._lookBusy = false;
    if (r.ok) {
      this.serverLook = (r.body && r.body.look) || name;
      this._msg(this.el.lookMsg, `Look: ${this.serverLook}`, "ok");
    } else {
      this._msg(this.el.lookMsg, `Look not changed: ${r.error}`, r.status === 404 ? "warn" : "bad");
      if (this.serverLook !== null) this.el.look.value = this.serverLook;
    }
    this._cubeLink();
  }

  _enginesFromState(engines) {
    const box = this.el.engines;
    for (const [name, e] of Object.entries(engines)) {
      let row = box.querySelector(`[data-engine="${CSS.escape(name)}"]`);
      if (!row) {
        row = document.createElement("label");
        row.dataset.engine = name;
        const input = document.createElement("input");
        input.type = "checkbox";
        input.id = `engine-${name}`;
        input.addEventListener("change", () => this.toggleEngine(name, input.checked));
        const text = document.createElement("span");
        row.append(input, text);
        box.append(row);
      }
      const input = row.querySelector("input");
      if (!this._engineBusy.has(name)) input.checked = e && e.enabled !== false;
      input.disabled = !this.allowed;
      row.querySelector("span").textContent = `${name} ${e && e.running ? "(running)" : "(not running)"}`;
      row.className = e && e.running ? "engine running" : "engine stopped";
    }
    this.engines = engines;
  }

  async toggleEngine(name, enabled) {
    this._engineBusy.add(name);
    const r = await apiRequest("POST", `/api/engines/${encodeURIComponent(name)}`, this.getToken(), { enabled });
    this._engineBusy.delete(name);
    const input = document.getElementById(`engine-${name}`);
    if (!r.ok) {
      this._msg(this.el.lookMsg, `${name} not switched: ${r.error}`, "bad");
      if (input) input.checked = !enabled;
    }
  }
}
