/**
 * The takes page (takes.html): the recorded takes of GET /api/takes, newest first, with slate,
 * timecode in and out, duration, caption summary, health and thumbnail.
 *
 * takeRow() reads one take as the server lists it into the strings the table shows; the
 * fields it reads (slate or scene/shot/take, tc_in, tc_out, duration_s or start_ns/stop_ns,
 * caption summary, health, thumbnail URL) are the ones docs/preview.md names for the list.
 * Takes are listed newest first (takeRows()).
 */

import { loadToken, saveToken, authHeaders, withTokenQuery } from "./token.js";

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** "Sc 12 / Sh 3A / Tk 4" from a slate string, a slate object or the take's own fields. */
export function slateLabel(t) {
  const s = t.slate;
  if (typeof s === "string" && s) return s;
  const src = s && typeof s === "object" ? s : t;
  if (src.scene === undefined && src.shot === undefined && src.take === undefined) return t.name || t.take_id || "—";
  return `Sc ${src.scene ?? "—"} / Sh ${src.shot ?? "—"} / Tk ${src.take ?? "—"}`;
}

/**
 * A caption summary as one line: the server's {shots, sentences, confidence} (from the take's
 * captions.json), a sentence, an object with one, or a list of shots.
 */
export function captionText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value || "—";
  if (Array.isArray(value)) {
    const parts = value.map(captionText).filter((x) => x !== "—");
    return parts.length ? parts.join(" / ") : "—";
  }
  if (typeof value === "object") {
    if (Array.isArray(value.sentences)) {
      const text = captionText(value.sentences);
      const more = num(value.shots) !== null && value.shots > value.sentences.length ? ` (+${value.shots - value.sentences.length} more)` : "";
      const conf = num(value.confidence) !== null ? ` · confidence ${Math.round(100 * value.confidence)} %` : "";
      return text === "—" ? "—" : `${text}${more}${conf}`;
    }
    if (typeof value.sentence === "string") return value.sentence;
    if (Array.isArray(value.shots)) return captionText(value.shots);
    if (typeof value.summary === "string" || Array.isArray(value.summary)) return captionText(value.summary);
  }
  return "—";
}

/**
 * A take's health in words: "ok", or what went wrong (the server's {ok, status, dropped,
 * dropped_by_reason, errors, problem, sensors_short}); other shapes as "name value" pairs.
 */
export function healthText(health) {
  if (health === null || health === undefined) return "—";
  if (typeof health === "string") return health;
  if (typeof health !== "object") return String(health);
  if ("ok" in health) {
    if (health.ok) return "ok";
    const out = [];
    if (health.status && !["complete", "recovered"].includes(health.status)) out.push(String(health.status));
    if (num(health.dropped)) {
      const why = Object.entries(health.dropped_by_reason || {}).map(([k, n]) => `${k.replace(/_/g, " ")} ${n}`).join(", ");
      out.push(`dropped ${health.dropped}${why ? ` (${why})` : ""}`);
    }
    if (num(health.errors)) out.push(`${health.errors} error${health.errors === 1 ? "" : "s"}`);
    if (Array.isArray(health.sensors_short) && health.sensors_short.length) out.push(`short: ${health.sensors_short.join(", ")}`);
    if (health.problem) out.push(String(health.problem));
    return out.length ? out.join(" · ") : "not ok";
  }
  const out = [];
  for (const [k, v] of Object.entries(health)) {
    const name = k.replace(/_/g, " ");
    if (typeof v === "number") out.push(/fraction|in_sync/.test(k) && v <= 1 ? `${name} ${(100 * v).toFixed(1)} %` : `${name} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
    else if (typeof v === "boolean") out.push(`${name} ${v ? "yes" : "no"}`);
    else if (typeof v === "string") out.push(`${name} ${v}`);
    else if (v && typeof v === "object") out.push(`${name} ${Object.values(v).reduce((a, b) => a + (num(b) || 0), 0)}`);
  }
  return out.length ? out.join(" · ") : "—";
}

export function durationText(t) {
  let s = num(t.duration_s);
  if (s === null && num(t.start_ns) !== null && num(t.stop_ns) !== null) s = (t.stop_ns - t.start_ns) / 1e9;
  if (s === null) return "—";
  const m = Math.floor(s / 60);
  return m ? `${m}:${(s - 60 * m).toFixed(1).padStart(4, "0")}` : `${s.toFixed(1)} s`;
}

/**
 * A take's offload and sync state in words (the server's {state, reason, bytes_sent,
 * bytes_total}): "verified", "uploading 42 %", "failed: why", "not sealed"...
 */
export function syncText(sync) {
  if (sync === null || sync === undefined) return "—";
  if (typeof sync === "string") return sync;
  if (typeof sync !== "object" || typeof sync.state !== "string") return "—";
  let text = sync.state;
  const sent = num(sync.bytes_sent), total = num(sync.bytes_total);
  if (sync.state === "uploading" && sent !== null && total) text += ` ${Math.floor((100 * sent) / total)} %`;
  if (sync.reason && ["failed", "interrupted", "unknown"].includes(sync.state)) text += `: ${sync.reason}`;
  return text;
}

/** One take as the table's strings. */
export function takeRow(t) {
  const id = t.take_id ?? t.id ?? t.name ?? null;
  const slate = t.slate && typeof t.slate === "object" ? t.slate : {};
  return {
    id,
    slate: slateLabel(t),
    tcIn: t.tc_in ?? slate.tc_in ?? "—",
    tcOut: t.tc_out ?? slate.tc_out ?? "—",
    duration: durationText(t),
    caption: captionText(t.captions ?? t.caption_summary ?? t.caption ?? t.summary),
    health: healthText(t.health),
    sync: syncText(t.sync),
    syncState: t.sync && typeof t.sync === "object" ? t.sync.state ?? null : null,
    thumbnail: t.thumbnail_url ?? t.thumbnail ?? (id !== null ? `/api/takes/${encodeURIComponent(id)}/thumbnail.jpg` : null),
    status: t.status ?? null,
    startNs: num(t.start_ns) ?? num(t.started_ns),
  };
}

/**
 * The rows of a GET /api/takes body ({takes: [...]}, or a bare list), newest first: by start
 * time where every take has one, else the server's order (oldest first) reversed.
 */
export function takeRows(body) {
  const list = Array.isArray(body) ? body : body && Array.isArray(body.takes) ? body.takes : [];
  const rows = list.filter((t) => t && typeof t === "object").map(takeRow).reverse();
  if (rows.length && rows.every((r) => r.startNs !== null)) rows.sort((a, b) => b.startNs - a.startNs);
  return rows;
}

// ---- the page -----------------------------------------------------------------------------

function render(rows, token) {
  const tbody = document.querySelector("#takes-table tbody");
  tbody.replaceChildren();
  if (!rows.length) {
    const td = tbody.insertRow().insertCell();
    td.colSpan = 8;
    td.className = "detail";
    td.textContent = "No takes recorded yet.";
    return;
  }
  for (const r of rows) {
    const tr = tbody.insertRow();
    if (r.id !== null) tr.dataset.take = r.id;
    const thumb = tr.insertCell();
    if (r.thumbnail) {
      const img = document.createElement("img");
      img.loading = "lazy";
      img.alt = `thumbnail of ${r.slate}`;
      img.src = withTokenQuery(r.thumbnail, token);
      img.onerror = () => img.replaceWith(document.createTextNode("no thumbnail"));
      thumb.append(img);
    }
    const add = (text, cls) => {
      const td = tr.insertCell();
      td.textContent = text;
      if (cls) td.className = cls;
    };
    add(r.status && r.status !== "complete" ? `${r.slate} (${r.status})` : r.slate, "slate");
    add(r.tcIn, "tc");
    add(r.tcOut, "tc");
    add(r.duration, "num");
    add(r.caption, "caption");
    add(r.health, "health-cell");
    add(r.sync, `sync-cell${r.syncState ? ` sync-${r.syncState.replace(/\s+/g, "-")}` : ""}`);
  }
}

async function load(token) {
  const status = document.getElementById("status");
  const error = document.getElementById("token-error");
  status.textContent = "loading…";
  let response;
  try {
    response = await fetch("/api/takes", { headers: authHeaders(token), cache: "no-store" });
  } catch (err) {
    status.textContent = `server not reachable (${err.message})`;
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401 || response.status === 403) {
    error.textContent = `${token ? "The server refused this token" : "The takes list needs a token"} (${response.status}): ${(body && body.error) || "refused"}`;
    status.textContent = "refused";
    document.getElementById("token-prompt").hidden = false;
    return;
  }
  if (!response.ok) {
    status.textContent = `could not list takes: ${(body && body.error) || `HTTP ${response.status}`}`;
    return;
  }
  error.textContent = "";
  const rows = takeRows(body);
  render(rows, token);
  status.textContent = `${rows.length} take${rows.length === 1 ? "" : "s"} · ${new Date().toLocaleTimeString()}`;
}

function linkLive(token) {
  document.getElementById("live-link").href = token ? `/#token=${encodeURIComponent(token)}` : "/";
}

function start() {
  let token = loadToken();
  linkLive(token);
  document.getElementById("refresh").addEventListener("click", () => load(token));
  document.getElementById("token-button").addEventListener("click", () => (document.getElementById("token-prompt").hidden = false));
  document.getElementById("token-cancel").addEventListener("click", () => (document.getElementById("token-prompt").hidden = true));
  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const given = document.getElementById("token-input").value.trim();
    if (!given) return;
    token = given;
    saveToken(token);
    linkLive(token);
    document.getElementById("token-prompt").hidden = true;
    load(token);
  });
  load(token);
  setInterval(() => {
    if (document.visibilityState === "visible") load(token);
  }, 15000);
}

if (typeof document !== "undefined") start();
