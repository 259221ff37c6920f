/**
 * The live page's text panels: slate (timecode, rate, frame), captions and the shot summary,
 * focus readouts (a range finder's near / far / subject), latency. Each render function takes
 * plain values and writes the elements that show them; no state is kept here.
 */

import { formatDistanceMm, dofZone, COC_RULES } from "./dof.js";
import { readingSource } from "./depth.js";

const byId = (id) => document.getElementById(id);

function setText(id, text) {
  const el = byId(id);
  if (el && el.textContent !== text) el.textContent = text;
}

/** Timecode as large as a slate, the rate, the frame index and sequence. */
export function renderSlate(header, skippedLocal) {
  setText("timecode", header.timecode || "--:--:--:--");
  const df = typeof header.timecode === "string" && /[;.]\d\d$/.test(header.timecode);
  setText("tc-rate", header.rate ? `${header.rate} fps${df ? " DF" : ""}` : "rate —");
  setText("frame-index", String(header.frame_index ?? "—"));
  const skipped = (Number(header.skipped) || 0) + (skippedLocal || 0);
  setText("frame-seq", `seq ${header.seq ?? "—"}${skipped ? ` · skipped ${skipped}` : ""}`);
  setText("frame-look", header.look ? `look ${header.look}` : "no look");
}

function pct(confidence) {
  return confidence === null || confidence === undefined ? "" : `${Math.round(confidence * 100)} %`;
}

/** The caption rows (captions.js captionView) and the shot summary. */
export function renderCaptions(view, summary, serverShot) {
  const box = byId("captions");
  box.classList.toggle("stale", view.stale);
  setText("caption-age", view.reason || (view.ageFrames === null ? "" : view.stale ? `${view.ageFrames} frames old` : view.ageFrames > 0 ? `${view.ageFrames} frame${view.ageFrames > 1 ? "s" : ""} behind` : "this frame"));
  const tbody = byId("caption-rows");
  tbody.replaceChildren();
  for (const row of view.rows) {
    const tr = tbody.insertRow();
    tr.dataset.caption = row.id;
    tr.insertCell().textContent = row.label;
    const rig = tr.insertCell();
    rig.className = "rig";
    if (row.rig) {
      rig.textContent = row.rig.text;
      if (row.rig.note) {
        const note = document.createElement("small");
        note.textContent = row.rig.note;
        rig.append(document.createElement("br"), note);
      }
      if (row.rig.missing) rig.classList.add("missing");
    } else {
      rig.textContent = "—";
    }
    const model = tr.insertCell();
    model.className = "model";
    if (row.model) {
      model.textContent = row.model.text;
      const conf = document.createElement("span");
      conf.className = "conf";
      conf.textContent = row.model.confidence !== null && row.model.confidence !== undefined ? pct(row.model.confidence) : row.model.spread || "";
      if (row.model.range) conf.title = `one-sigma range ${row.model.range}`;
      model.append(" ", conf);
    } else {
      model.textContent = "—";
    }
  }
  setText("caption-model-note", view.modelMissing ? `model: ${view.modelMissing}` : "");
  const loop = view.closedLoop;
  setText("caption-loop", loop && typeof loop === "object" && "met" in loop ? `closed loop (${loop.look || "look"}): ${loop.met ? "captions hold" : "the look changes what the captioner reads"}` : "");
  const shot = serverShot && (serverShot.sentence || serverShot.caption);
  if (shot) {
    setText("shot-summary", String(shot));
    setText("shot-detail", serverShot.confidence !== undefined ? `confidence ${pct(serverShot.confidence)} (server)` : "from the server");
  } else if (summary) {
    setText("shot-summary", summary.sentence);
    setText("shot-detail", `${summary.frames} frames since ${summary.tcIn || "—"} · shot size ${pct(summary.shotSizeAgreement)}, movement ${pct(summary.movementAgreement)} of frames agree`);
  } else {
    setText("shot-summary", "—");
    setText("shot-detail", "");
  }
}

/**
 * The focus readouts: lens, near / far limits (#dof-near, #dof-far), hyperfocal, the distance
 * under the cursor or the pinned point (#depth-readout), and where it lies against the limits.
 * `reading.value.mm` is on the focus scale (view.js distanceAt: the LiDAR's depth from the
 * entrance pupil plus the pupil-to-sensor offset), so it is what is compared with the focus.
 */
export function renderFocus(dof, reading, units, pinned) {
  if (!dof || dof.reason) {
    setText("dof-near", "—");
    setText("dof-far", "—");
    setText("dof-detail", dof && dof.reason ? dof.reason : "no lens state yet");
  } else {
    setText("dof-near", formatDistanceMm(dof.nearMm, units));
    setText("dof-far", formatDistanceMm(dof.farMm, units));
    setText("dof-focus", formatDistanceMm(dof.focusMm, units));
    setText("dof-detail", `${dof.focalLengthMm.toFixed(0)} mm T${dof.tStop.toFixed(1)} · depth ${formatDistanceMm(dof.depthMm, units)} · hyperfocal ${formatDistanceMm(dof.hyperfocalMm, units)} · CoC ${dof.cocMm.toFixed(3)} mm (${COC_RULES[dof.ruleId].label})`);
  }
  const readout = byId("depth-readout");
  readout.classList.toggle("pinned", !!pinned);
  if (reading.value) {
    setText("depth-readout", formatDistanceMm(reading.value.mm, units));
    const offsetMm = reading.value.pupilToSensorMm || 0;
    const offset = offsetMm ? `, + ${offsetMm} mm entrance pupil to sensor` : "";
    readout.title = `${readingSource(reading.value)}${offset}${pinned ? " (pinned: Esc to drop)" : ""}`;
  } else {
    setText("depth-readout", "—");
    readout.title = reading.why || "";
  }
  let where = reading.why || "";
  if (reading.value && dof && !dof.reason) {
    const d = reading.value.mm;
    const zone = dofZone(d, dof.nearMm, dof.farMm);
    const delta = d - dof.focusMm;
    const rel = Math.abs(delta) < 10 ? "at the focus distance" : `${formatDistanceMm(Math.abs(delta), units)} ${delta >= 0 ? "behind" : "in front of"} focus`;
    where = `${rel}, ${zone === "in" ? "inside the depth of field" : zone === "near" ? "nearer than the near limit" : "beyond the far limit"}`;
  }
  setText("depth-where", where);
  renderRangerBar(dof, reading);
}

/** A range finder's bar: the depth of field, the focus mark and the subject, on a log scale. */
function renderRangerBar(dof, reading) {
  const c = byId("ranger-bar");
  if (!c) return;
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(c.clientWidth * dpr) || 300;
  const h = Math.round(c.clientHeight * dpr) || 24;
  if (c.width !== w || c.height !== h) [c.width, c.height] = [w, h];
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  if (!dof || dof.reason) return;
  const lo = Math.log(Math.max(100, dof.nearMm / 2));
  const farEnd = Number.isFinite(dof.farMm) ? dof.farMm * 2 : dof.focusMm * 6;
  const hi = Math.log(Math.max(farEnd, Math.exp(lo) * 2));
  const xOf = (mm) => ((Math.log(Math.min(Math.max(mm, Math.exp(lo)), Math.exp(hi))) - lo) / (hi - lo)) * w;
  ctx.fillStyle = "#222";
  ctx.fillRect(0, h * 0.3, w, h * 0.4);
  ctx.fillStyle = "rgba(64, 255, 128, 0.7)";
  const x0 = xOf(dof.nearMm);
  const x1 = Number.isFinite(dof.farMm) ? xOf(dof.farMm) : w;
  ctx.fillRect(x0, h * 0.3, Math.max(2, x1 - x0), h * 0.4);
  ctx.fillStyle = "#fff";
  ctx.fillRect(Math.round(xOf(dof.focusMm)) - dpr, 0, 2 * dpr, h);
  if (reading.value) {
    const x = xOf(reading.value.mm);
    ctx.fillStyle = "#ffb000";
    ctx.beginPath();
    ctx.moveTo(x, h);
    ctx.lineTo(x - 6 * dpr, h * 0.35);
    ctx.lineTo(x + 6 * dpr, h * 0.35);
    ctx.closePath();
    ctx.fill();
  }
}

const ms = (v) => (v === null || v === undefined ? "—" : v.toFixed(1));

/** The server's stages from `state.latency`, then the page's own, and the clock's uncertainty. */
export function renderLatency(serverStages, pageStages, clock, toolsMs, decodeMs) {
  const tbody = byId("latency-rows");
  tbody.replaceChildren();
  const add = (name, s, cls = "") => {
    const tr = tbody.insertRow();
    if (cls) tr.className = cls;
    tr.insertCell().textContent = name;
    for (const k of ["p50_ms", "p95_ms", "p99_ms"]) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = ms(s[k]);
    }
    const n = tr.insertCell();
    n.className = "num";
    n.textContent = s.count === undefined ? "" : String(s.count);
  };
  for (const [name, s] of Object.entries(serverStages || {})) if (s && typeof s === "object") add(name, s);
  for (const [name, s] of Object.entries(pageStages)) add(`page: ${name.replace(/_/g, " ")}`, s, "page");
  const offset = clock.offset_ms;
  setText("clock-readout", offset === null ? "clock: not synced yet" : `clock ±${clock.uncertainty_ms.toFixed(1)} ms (server − page ${offset >= 0 ? "+" : ""}${offset.toFixed(1)} ms)`);
  setText("tools-readout", `decode ${ms(decodeMs)} ms · monitor tools ${ms(toolsMs)} ms${toolsMs > 10 ? " (over the 10 ms budget)" : ""}`);
}

/**
 * The message over the picture: several reasons may want it at once (a refused token, a lost
 * connection, no node, no frames); the most important one shows.
 */
export class Banner {
  constructor(el, order = ["token", "conn", "node", "frames"]) {
    this.el = el;
    this.order = order;
    this.reasons = new Map();
  }

  show(reason, text, level) {
    this.reasons.set(reason, { text, level });
    this._paint();
  }

  hide(reason) {
    if (this.reasons.delete(reason)) this._paint();
  }

  _paint() {
    const top = this.order.map((k) => this.reasons.get(k)).find(Boolean);
    this.el.hidden = !top;
    if (top) {
      this.el.textContent = top.text;
      this.el.className = `level-${top.level}`;
    }
  }
}
