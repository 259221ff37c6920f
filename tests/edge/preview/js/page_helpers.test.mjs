// Small pure parts of the pages: token, take controls, takes list, latency, keys, parts, layout.
import test from "node:test";
import assert from "node:assert/strict";
import { parseFragment, withTokenQuery, authHeaders } from "../../../../edge/preview/static/token.js";
import { nextTakeFrom409, takeState, slateText } from "../../../../edge/preview/static/controls.js";
import { takeRows, takeRow, captionText, healthText, durationText, syncText } from "../../../../edge/preview/static/takes.js";
import { LatencyWindow, nearestRank, pageStagesMs, roundHalfEven } from "../../../../edge/preview/static/latency.js";
import { KEYMAP, actionFor, isTyping } from "../../../../edge/preview/static/keys.js";
import { neededParts, layoutViews } from "../../../../edge/preview/static/view.js";

test("the token comes out of the fragment, other fragment parts stay", () => {
  assert.deepEqual(parseFragment("#token=abc123"), { token: "abc123", rest: "" });
  assert.deepEqual(parseFragment("#view=raw&token=a%2Bb"), { token: "a+b", rest: "#view=raw" });
  assert.deepEqual(parseFragment(""), { token: null, rest: "" });
  assert.deepEqual(parseFragment("#token="), { token: null, rest: "" });
  assert.equal(withTokenQuery("/api/looks/35mm.cube?size=33", "t&k"), "/api/looks/35mm.cube?size=33&token=t%26k");
  assert.equal(withTokenQuery("/x", null), "/x");
  assert.deepEqual(authHeaders("k", true), { Authorization: "Bearer k", "Content-Type": "application/json" });
  assert.deepEqual(authHeaders(null), {});
});

test("a 409 on take start: the next free take from the body or its words", () => {
  assert.equal(nextTakeFrom409({ error: "slate 1/A/3 exists", next_take: 4 }), 4);
  assert.equal(nextTakeFrom409({ error: "x", next_free_take: 7 }), 7);
  assert.equal(nextTakeFrom409({ error: "slate 1/A/3 exists; next free take is 5" }), 5);
  assert.equal(nextTakeFrom409({ error: "already recording" }), null);
  assert.equal(nextTakeFrom409(null), null);
});

test("the recorder's state as the take panel reads it", () => {
  const rolling = takeState({ state: "recording", take: { scene: "12", shot: "3A", take: 4, tc_in: "01:00:00:00" } });
  assert.equal(rolling.rolling, true);
  assert.equal(slateText(rolling.info), "Sc 12 / Sh 3A / Tk 4");
  assert.equal(takeState({ state: "idle", take: null }).rolling, false);
  assert.equal(takeState({ state: "failed", take: { scene: "1", shot: "A", take: 1 }, error: "disk full" }).failed, true);
  assert.equal(takeState(null).known, false);
});

test("takes list: newest first, every column a string", () => {
  // shaped as edge/preview/takes.py lists them (oldest first)
  const body = {
    takes_dir: "/takes", exists: true,
    takes: [
      { id: "S1_A_T1", slate: { scene: "1", shot: "A", take: 1 }, tc_in: "01:00:00:00", tc_out: "01:00:10:00", duration_s: 10, start_ns: 1e18,
        status: "complete", health: { ok: true, status: "complete", dropped: 0, dropped_by_reason: {}, errors: 0, problem: null, sensors_short: [] },
        captions: { shots: 4, sentences: ["MCU on 40 mm, static", "WS on 24 mm, pan left"], confidence: 0.8123 },
        thumbnail: "/api/takes/S1_A_T1/thumbnail.jpg" },
      { id: "S1_A_T2", slate: { scene: "1", shot: "A", take: 2 }, tc_in: "01:01:00:00", tc_out: null, duration_s: 75.25, start_ns: 2e18,
        status: "failed", health: { ok: false, status: "failed", dropped: 3, dropped_by_reason: { queue_full: 3 }, errors: 1, problem: "disk full", sensors_short: ["lidar0"] },
        captions: null, thumbnail: "/api/takes/S1_A_T2/thumbnail.jpg" },
    ],
  };
  const rows = takeRows(body);
  assert.deepEqual(rows.map((r) => r.id), ["S1_A_T2", "S1_A_T1"]);
  assert.equal(rows[0].slate, "Sc 1 / Sh A / Tk 2");
  assert.equal(rows[0].duration, "1:15.3");
  assert.equal(rows[0].tcOut, "—");
  assert.equal(rows[0].caption, "—");
  assert.equal(rows[0].health, "failed · dropped 3 (queue full 3) · 1 error · short: lidar0 · disk full");
  assert.equal(rows[0].status, "failed");
  assert.equal(rows[1].duration, "10.0 s");
  assert.equal(rows[1].caption, "MCU on 40 mm, static / WS on 24 mm, pan left (+2 more) · confidence 81 %");
  assert.equal(rows[1].health, "ok");
  assert.equal(rows[1].thumbnail, "/api/takes/S1_A_T1/thumbnail.jpg");
  // by start time whatever the server's order
  const shuffled = takeRows({ takes: [{ id: "b", start_ns: 2e18 }, { id: "a", start_ns: 1e18 }, { id: "c", start_ns: 3e18 }] });
  assert.deepEqual(shuffled.map((r) => r.id), ["c", "b", "a"]);
  // without start times: the server's order (oldest first) reversed
  assert.deepEqual(takeRows([{ name: "a" }, { name: "b" }]).map((r) => r.id), ["b", "a"]);
  assert.deepEqual(takeRows({}), []);
  assert.equal(takeRow({ slate: "12/3A/4" }).slate, "12/3A/4");
  assert.equal(takeRow({ id: "x y" }).thumbnail, "/api/takes/x%20y/thumbnail.jpg");
  assert.equal(durationText({ start_ns: 0, stop_ns: 2.5e9 }), "2.5 s");
  assert.equal(captionText(null), "—");
  assert.equal(captionText({ sentence: "MS" }), "MS");
  assert.equal(healthText(null), "—");
  assert.equal(healthText({ in_sync_fraction: 0.995, dropped: { a: 1, b: 2 } }), "in sync fraction 99.5 % · dropped 3");
  assert.equal(durationText({}), "—");
  assert.equal(syncText(undefined), "—");
  assert.equal(syncText({ state: "verified", reason: null }), "verified");
  assert.equal(syncText({ state: "uploading", bytes_sent: 421, bytes_total: 1000 }), "uploading 42 %");
  assert.equal(syncText({ state: "failed", reason: "bag/bag_0.mcap changed since it was sealed" }),
    "failed: bag/bag_0.mcap changed since it was sealed");
  assert.equal(takeRow({ id: "t", sync: { state: "not sealed" } }).sync, "not sealed");
});

test("latency: nearest-rank percentiles over a window", () => {
  // the node's rule (edge/node/health.py): rank = round(q n + 0.5) - 1, Python's round (halves
  // to even): q 0.5 of 4 values -> round(2.5) = 2 -> rank 1 -> the second value
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-2.5), -2);
  assert.equal(roundHalfEven(2.4), 2);
  assert.equal(nearestRank([1, 2, 3, 4], 0.5), 2);
  assert.equal(nearestRank([1, 2, 3, 4], 0.99), 4);
  assert.equal(nearestRank([], 0.5), null);
  const w = new LatencyWindow(100);
  for (let i = 1; i <= 150; i++) w.push(i); // the window keeps 51..150
  w.push(NaN);
  const p = w.percentiles();
  assert.equal(p.count, 100);
  // 100 values 51..150: p50 round(50.5) = 50 -> 100; p95 round(95.5) = 96 -> 146; p99 round(99.5) = 100 -> 150
  assert.equal(p.p50_ms, 100);
  assert.equal(p.p95_ms, 146);
  assert.equal(p.p99_ms, 150);
  const s = pageStagesMs({ exposure: 1_000_000_000, sent: 1_030_000_000 }, 1_045_000_000);
  assert.deepEqual(s, { sent_to_drawn: 15, exposure_to_drawn: 45 });
  assert.deepEqual(pageStagesMs({}, 5), { sent_to_drawn: null, exposure_to_drawn: null });
});

test("keys: one action per key, Shift+V apart from V, letters either case", () => {
  const seen = new Set();
  for (const k of KEYMAP) {
    const id = `${k.shift ? "shift+" : ""}${k.key}`;
    assert.ok(!seen.has(id), `${id} is bound twice`);
    seen.add(id);
  }
  assert.equal(actionFor({ key: "R", shiftKey: true }).action, "raw");
  assert.equal(actionFor({ key: "v", shiftKey: false }).action, "waveform");
  assert.equal(actionFor({ key: "V", shiftKey: true }).action, "parade");
  assert.equal(actionFor({ key: "?", shiftKey: true }).action, "help");
  assert.equal(actionFor({ key: "Escape", shiftKey: false }).action, "escape");
  assert.equal(actionFor({ key: "q", shiftKey: false }), null);
  assert.equal(isTyping({ target: { tagName: "INPUT" } }), true);
  assert.equal(isTyping({ target: { tagName: "CANVAS" } }), false);
  assert.ok(!KEYMAP.some((k) => /take|roll/i.test(k.action)), "no key rolls a take");
});

test("parts: styled only, unless a view or a tool needs raw or depth", () => {
  const base = { mode: "styled", waveform: false, histogram: false, scopeSource: "styled", depth: false, focus: false };
  assert.deepEqual(neededParts(base), ["styled"]);
  assert.deepEqual(neededParts({ ...base, mode: "raw" }), ["raw"]);
  assert.deepEqual(neededParts({ ...base, mode: "side" }), ["styled", "raw"]);
  assert.deepEqual(neededParts({ ...base, mode: "wipe" }), ["styled", "raw"]);
  assert.deepEqual(neededParts({ ...base, depth: true }), ["styled", "depth"]);
  assert.deepEqual(neededParts({ ...base, focus: true }), ["styled", "depth"]);
  assert.deepEqual(neededParts({ ...base, waveform: true, scopeSource: "raw" }), ["styled", "raw"]);
  assert.deepEqual(neededParts({ ...base, waveform: true }), ["styled"]);
  assert.deepEqual(neededParts({ ...base, mode: "raw", histogram: true }), ["styled", "raw"]);
});

test("layouts: side by side is twice as wide, the wipe splits one picture", () => {
  const has = { styled: true, raw: true };
  assert.equal(layoutViews("styled", 640, 360, 0.5, has).width, 640);
  const side = layoutViews("side", 640, 360, 0.5, has);
  assert.equal(side.width, 1280);
  assert.deepEqual(side.views.map((v) => [v.x, v.layers[0].src]), [[0, "styled"], [640, "raw"]]);
  const wipe = layoutViews("wipe", 640, 360, 0.25, has);
  assert.deepEqual(wipe.views[0].layers.map((l) => [l.src, l.x0, l.x1]), [["styled", 0, 160], ["raw", 160, 640]]);
  // raw asked for but not arrived yet: the styled image stands in, labelled
  const early = layoutViews("raw", 640, 360, 0.5, { styled: true, raw: false });
  assert.equal(early.views[0].layers[0].src, "styled");
  assert.match(early.views[0].label, /not in the stream/);
  assert.equal(layoutViews("styled", 640, 360, 0.5, { styled: false, raw: true }).views[0].layers[0].src, "raw");
});
