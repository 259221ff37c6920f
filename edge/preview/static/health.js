/**
 * Sensor and source health for the page, from `state` (once a second) and each frame's `sync`.
 *
 * Levels: "ok" (green), "warn" (amber: late, clock not converged, a source quiet for 2 s),
 * "bad" (red: missing, a source gone for 5 s), "wait" (grey: nothing received yet). Every
 * level other than ok comes with its reason in words.
 *
 * The frame's `sync` entries (docs/preview.md) say how each sensor took part in the newest
 * frame: {sensor, status: ok|late|missing|unsynced, gap_ms, residual_jitter_ms}. The node's
 * status document in `state.health` (edge/node/status_json.py) adds, per sensor in `sensors`,
 * the driver's rate (rate_hz, expected_hz), drops (dropped, and samples the synchronizer
 * refused), the clock model (clock.residual_jitter_ms, clock.converged) and the newest
 * diagnostic level (0 ok, 1 warn, 2 error, 3 stale) with its message; and in `fused` the
 * node's in-sync fraction and rate. A sensor's in-sync fraction is the share of the newest
 * SYNC_WINDOW frames the page received on which it was "ok" (SyncTally); before the page has
 * seen any, the node's counts since it started stand in.
 *
 * renderHealth() is the one function that touches the DOM; the rest are pure.
 */

export const SOURCE_LEVELS = Object.freeze({ live: "ok", ok: "ok", waiting: "wait", late: "warn", gone: "bad" });
export const SYNC_LEVELS = Object.freeze({ ok: "ok", late: "warn", unsynced: "warn", missing: "bad" });
/** A page that has had no frame for this long marks every sensor amber. */
export const FRAME_LATE_S = 2;
export const FRAME_GONE_S = 5;

function num(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The words for one frame's sync entry (null when ok). */
export function syncReason(entry) {
  const gap = num(entry.gap_ms);
  switch (entry.status) {
    case "ok":
      return null;
    case "late":
      return gap === null ? "late: newest sample older than the frame" : `late: newest sample ${gap.toFixed(0)} ms older than the frame`;
    case "missing":
      return "missing: no usable sample for this frame";
    case "unsynced":
      return "clock not converged yet: its samples are not used";
    default:
      return `status ${JSON.stringify(entry.status)}`;
  }
}

/** Rows for the sources the server reads (waiting, live, late, gone): {name, status, level, reason, age_s}. */
export function sourceRows(sources) {
  if (!sources || typeof sources !== "object") return [];
  return Object.entries(sources).map(([name, s]) => {
    const status = String((s && s.status) || "waiting");
    const level = SOURCE_LEVELS[status] || "warn";
    const age = num(s && s.age_s);
    let reason = (s && s.reason) || null;
    if (!reason && status === "waiting") reason = "nothing received yet";
    if (!reason && status !== "ok" && age !== null) reason = `nothing for ${age.toFixed(1)} s`;
    return { name, status, level, reason: level === "ok" ? null : reason, age_s: age };
  });
}

/** Whether the page should say it is waiting for the node (its frame source has sent nothing). */
export function waitingForNode(sources) {
  const rows = sourceRows(sources);
  if (!rows.length) return false;
  // "fused": the node's frame stream (edge/preview/service.py); "node": its control API
  const node = rows.find((r) => r.name === "fused") || rows.find((r) => r.name === "node");
  return node ? node.status === "waiting" : rows.every((r) => r.status === "waiting");
}

/** Frames whose sync entries count towards a sensor's in-sync fraction on the page. */
export const SYNC_WINDOW = 240;
/** A sensor decoding under this share of its expected rate is amber. */
export const LOW_RATE_SHARE = 0.5;
const DIAGNOSTIC_LEVELS = ["ok", "warn", "bad", "bad"];

/** Per sensor, the newest SYNC_WINDOW frames' sync statuses: the share that were ok. */
export class SyncTally {
  constructor(size = SYNC_WINDOW) {
    this.size = size;
    this.sensors = new Map();
  }

  add(sync) {
    for (const e of Array.isArray(sync) ? sync : []) {
      if (!e || !e.sensor) continue;
      let t = this.sensors.get(e.sensor);
      if (!t) this.sensors.set(e.sensor, (t = { ring: new Uint8Array(this.size), next: 0, count: 0, ok: 0 }));
      const ok = e.status === "ok" ? 1 : 0;
      if (t.count === this.size) t.ok -= t.ring[t.next];
      else t.count++;
      t.ring[t.next] = ok;
      t.ok += ok;
      t.next = (t.next + 1) % this.size;
    }
  }

  /** {fraction, frames} for a sensor, or null before its first frame. */
  fraction(name) {
    const t = this.sensors.get(name);
    return t && t.count ? { fraction: t.ok / t.count, frames: t.count } : null;
  }
}

function sensorTable(health) {
  const sensors = health && health.sensors;
  const out = new Map();
  if (Array.isArray(sensors)) {
    for (const s of sensors) if (s && (s.name || s.sensor)) out.set(String(s.name || s.sensor), s);
  } else if (sensors && typeof sensors === "object") {
    for (const [name, s] of Object.entries(sensors)) out.set(name, s || {});
  }
  return out;
}

function drops(s) {
  let total = null;
  for (const v of [s.dropped, s.drops, s.refused]) if (num(v) !== null) total = (total || 0) + v;
  return total;
}

function residualMs(s, entry) {
  const clock = s.clock || {};
  for (const v of [clock.residual_jitter_ms, s.residual_jitter_ms]) if (num(v) !== null) return v;
  return entry ? num(entry.residual_jitter_ms) : null;
}

/** The node's counts since it started, as a fraction of its fused frames (null without them). */
function countedInSync(s, fused) {
  const frames = num(fused && fused.fused);
  if (!frames) return null;
  const off = (num(s.late) || 0) + (num(s.missing) || 0) + (num(s.unsynced) || 0);
  return Math.max(0, 1 - off / frames);
}

/**
 * One row per sensor: {name, kind, rate_hz, drops, residual_ms, in_sync, status, gap_ms,
 * level, reason}. `frameAgeS`: seconds since the page's newest frame (null: none yet);
 * `tally`: the page's SyncTally.
 */
export function sensorRows(health, sync, frameAgeS = 0, tally = null) {
  const table = sensorTable(health);
  const fused = (health && health.fused) || health || {};
  const entries = new Map();
  for (const e of Array.isArray(sync) ? sync : []) if (e && e.sensor) entries.set(String(e.sensor), e);
  const names = [...new Set([...table.keys(), ...entries.keys()])];
  const order = ["ok", "wait", "warn", "bad"];
  const raise = (row, level, reason) => {
    if (order.indexOf(level) > order.indexOf(row.level) || (row.level === "wait" && level !== "ok")) [row.level, row.reason] = [level, reason];
  };
  return names.map((name) => {
    const s = table.get(name) || {};
    const e = entries.get(name) || null;
    const status = e ? String(e.status) : null;
    const rate = num(s.rate_hz);
    const tallied = tally ? tally.fraction(name) : null;
    const row = {
      name,
      kind: s.kind || s.family || null,
      rate_hz: rate,
      expected_hz: num(s.expected_hz),
      drops: drops(s),
      residual_ms: residualMs(s, e),
      in_sync: tallied ? tallied.fraction : countedInSync(s, fused),
      late: num(s.late),
      missing: num(s.missing),
      status,
      gap_ms: e ? num(e.gap_ms) : null,
      level: status ? SYNC_LEVELS[status] || "warn" : "wait",
      reason: e ? syncReason(e) : "not in the newest frame",
    };
    if (!e && table.has(name) && s.synced === true) [row.level, row.reason] = ["ok", null];
    const diagnostic = num(s.level);
    if (diagnostic !== null && diagnostic > 0) raise(row, DIAGNOSTIC_LEVELS[Math.min(3, diagnostic)], s.message ? String(s.message) : `diagnostic level ${diagnostic}`);
    if (s.clock && s.clock.converged === false) raise(row, "warn", "clock model not converged yet");
    if (rate !== null && row.expected_hz && rate < LOW_RATE_SHARE * row.expected_hz) {
      raise(row, rate === 0 ? "bad" : "warn", rate === 0 ? "no samples decoded" : `rate ${rate.toFixed(1)}/s of ${row.expected_hz.toFixed(1)}/s expected`);
    }
    if (frameAgeS !== null && frameAgeS >= FRAME_GONE_S) raise(row, "bad", `no frame for ${frameAgeS.toFixed(0)} s`);
    else if (frameAgeS !== null && frameAgeS >= FRAME_LATE_S) raise(row, "warn", `no frame for ${frameAgeS.toFixed(1)} s`);
    return row;
  });
}

/** The worst of several levels. */
export function worstLevel(levels) {
  const order = ["ok", "wait", "warn", "bad"];
  return levels.reduce((worst, l) => (order.indexOf(l) > order.indexOf(worst) ? l : worst), "ok");
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

const fmt = (v, digits, suffix = "") => (v === null || v === undefined ? "—" : `${v.toFixed(digits)}${suffix}`);

/** Fill `tbody` with the sensor rows and `sourcesEl` with the source chips. */
export function renderHealth(tbody, sourcesEl, sensors, sources, overall) {
  tbody.replaceChildren();
  for (const r of sensors) {
    const tr = tbody.insertRow();
    tr.className = `level-${r.level}`;
    tr.dataset.sensor = r.name;
    const name = cell(tr, r.name, "name");
    name.title = r.kind || "";
    cell(tr, fmt(r.rate_hz, 1), "num");
    cell(tr, r.drops === null ? "—" : String(r.drops), "num");
    cell(tr, fmt(r.residual_ms, 2), "num");
    cell(tr, r.in_sync === null ? "—" : `${(100 * r.in_sync).toFixed(1)} %`, "num");
    cell(tr, r.reason || (r.gap_ms === null ? "ok" : `ok, ${r.gap_ms.toFixed(0)} ms`), "reason");
  }
  if (!sensors.length) {
    const tr = tbody.insertRow();
    cell(tr, "no sensor reported yet", "reason").colSpan = 6;
  }
  sourcesEl.replaceChildren();
  for (const s of sources) {
    const chip = document.createElement("span");
    chip.className = `chip level-${s.level}`;
    chip.textContent = s.reason ? `${s.name}: ${s.status} (${s.reason})` : `${s.name}: ${s.status}`;
    sourcesEl.append(chip);
  }
  if (overall) overall.className = `dot level-${worstLevel([...sensors.map((r) => r.level), ...sources.map((s) => s.level)])}`;
}
