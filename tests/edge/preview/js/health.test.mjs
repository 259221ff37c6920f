// Sensor and source health (health.js): levels and reasons in words.
import test from "node:test";
import assert from "node:assert/strict";
import { sensorRows, sourceRows, syncReason, waitingForNode, worstLevel, SyncTally } from "../../../../edge/preview/static/health.js";

const sync = [
  { sensor: "camera0", status: "ok", gap_ms: 0.0, residual_jitter_ms: 0.05 },
  { sensor: "lidar0", status: "late", gap_ms: 85.2, residual_jitter_ms: 0.21 },
  { sensor: "freed0", status: "missing", gap_ms: 900, residual_jitter_ms: 0.3 },
  { sensor: "ltc0", status: "unsynced", gap_ms: 0, residual_jitter_ms: 0 },
];

test("each frame's sync status gives a level and a reason", () => {
  const rows = Object.fromEntries(sensorRows({}, sync, 0).map((r) => [r.name, r]));
  assert.equal(rows.camera0.level, "ok");
  assert.equal(rows.camera0.reason, null);
  assert.equal(rows.lidar0.level, "warn");
  assert.equal(rows.lidar0.reason, "late: newest sample 85 ms older than the frame");
  assert.equal(rows.freed0.level, "bad");
  assert.match(rows.freed0.reason, /^missing/);
  assert.equal(rows.ltc0.level, "warn");
  assert.match(rows.ltc0.reason, /clock not converged/);
  assert.equal(rows.lidar0.residual_ms, 0.21); // from the frame when the node's table has none
});

test("the node's status document adds rates, drops, clock residuals and diagnostics", () => {
  // shaped as edge/node/status_json.py documents it
  const health = {
    v: 1, node: "sim-stage",
    fused: { fused: 1000, fused_hz: 24.0, in_sync: 0.997, recent_frames: 1000 },
    sensors: {
      lidar0: { family: "lidar", kind: "lidar", rate_hz: 754.1, expected_hz: 754, dropped: 2, refused: 1, level: 0, message: "rate 754.1/s",
        synced: true, late: 30, missing: 10, unsynced: 0, clock: { converged: true, residual_jitter_ms: 0.021 } },
      camera0: { family: "camera", rate_hz: 3.0, expected_hz: 24, dropped: 0, level: 1, message: "rate 3.0/s, expected 24" },
      freed0: { family: "telemetry", rate_hz: 0, expected_hz: 60, dropped: 0, level: 3, message: "stale: no packet for 6 s" },
      ltc0: { family: "timecode", rate_hz: 24, expected_hz: 24, dropped: 0, level: 0, clock: { converged: false, residual_jitter_ms: null } },
    },
  };
  const frame = [{ sensor: "lidar0", status: "ok", gap_ms: 3, residual_jitter_ms: 0.5 }, { sensor: "camera0", status: "ok", gap_ms: 0, residual_jitter_ms: 0 }];
  const rows = Object.fromEntries(sensorRows(health, frame, 0).map((r) => [r.name, r]));
  assert.equal(rows.lidar0.rate_hz, 754.1);
  assert.equal(rows.lidar0.drops, 3); // 2 dropped by the driver + 1 refused by the synchronizer
  assert.equal(rows.lidar0.residual_ms, 0.021); // the clock model's, not the frame's copy
  assert.equal(rows.lidar0.in_sync, 0.96); // no frames tallied on the page: 1 - (30 + 10) / 1000
  assert.equal(rows.lidar0.level, "ok");
  assert.equal(rows.camera0.level, "warn"); // ok in the frame, but the node's diagnostic warns
  assert.equal(rows.camera0.reason, "rate 3.0/s, expected 24");
  assert.equal(rows.freed0.level, "bad");
  assert.equal(rows.freed0.reason, "stale: no packet for 6 s");
  assert.equal(rows.ltc0.level, "warn");
  assert.equal(rows.ltc0.reason, "clock model not converged yet");
  const low = sensorRows({ sensors: { imu: { rate_hz: 20, expected_hz: 100, synced: true } } }, [], 0);
  assert.equal(low[0].level, "warn");
  assert.equal(low[0].reason, "rate 20.0/s of 100.0/s expected");
  assert.equal(sensorRows({ sensors: { imu: {} } }, [], 0)[0].level, "wait"); // in no frame yet
});

test("the page's own in-sync fraction over the frames it received", () => {
  const tally = new SyncTally(4);
  const ok = { sensor: "lidar0", status: "ok" };
  const late = { sensor: "lidar0", status: "late", gap_ms: 50 };
  for (const e of [late, ok, ok, ok, ok, late]) tally.add([e]); // the window keeps ok ok ok late
  assert.deepEqual(tally.fraction("lidar0"), { fraction: 0.75, frames: 4 });
  assert.equal(tally.fraction("camera0"), null);
  const rows = sensorRows({ sensors: { lidar0: { late: 500 } }, fused: { fused: 1000 } }, [late], 0, tally);
  assert.equal(rows[0].in_sync, 0.75);
});

test("no frames for a while: amber after 2 s, red after 5 s", () => {
  assert.equal(sensorRows({}, sync.slice(0, 1), 2.5)[0].level, "warn");
  assert.equal(sensorRows({}, sync.slice(0, 1), 2.5)[0].reason, "no frame for 2.5 s");
  assert.equal(sensorRows({}, sync.slice(0, 1), 6)[0].level, "bad");
  assert.equal(sensorRows({}, sync.slice(2, 3), 3)[0].level, "bad"); // missing stays red
});

test("sources: waiting, ok, late and gone", () => {
  const rows = Object.fromEntries(sourceRows({
    node: { status: "live", reason: null, age_s: 0.04 },
    fused: { status: "ok", reason: null, age_s: 0.04 },
    style: { status: "late", reason: null, age_s: 2.4 },
    captioner: { status: "gone", reason: "no result for 7.0 s", age_s: 7 },
    status: { status: "waiting", reason: null, age_s: null },
  }).map((r) => [r.name, r]));
  assert.equal(rows.node.level, "ok");
  assert.equal(rows.fused.level, "ok");
  assert.equal(rows.style.level, "warn");
  assert.equal(rows.style.reason, "nothing for 2.4 s");
  assert.equal(rows.captioner.level, "bad");
  assert.equal(rows.captioner.reason, "no result for 7.0 s");
  assert.equal(rows.status.level, "wait");
  assert.equal(rows.status.reason, "nothing received yet");
});

test("waiting for the node", () => {
  assert.equal(waitingForNode({ fused: { status: "waiting" }, node: { status: "live" }, style: { status: "live" } }), true);
  assert.equal(waitingForNode({ node: { status: "waiting" }, fused: { status: "live" } }), false); // frames flow
  assert.equal(waitingForNode({ node: { status: "waiting" }, style: { status: "live" } }), true);
  assert.equal(waitingForNode({ fused: { status: "live" }, style: { status: "waiting" } }), false);
  assert.equal(waitingForNode({ a: { status: "waiting" }, b: { status: "waiting" } }), true);
  assert.equal(waitingForNode({ a: { status: "waiting" }, b: { status: "ok" } }), false);
  assert.equal(waitingForNode({}), false);
});

test("worst level and unknown statuses", () => {
  assert.equal(worstLevel(["ok", "warn", "wait"]), "warn");
  assert.equal(worstLevel(["ok", "bad", "warn"]), "bad");
  assert.equal(worstLevel([]), "ok");
  assert.equal(syncReason({ status: "weird" }), 'status "weird"');
});
