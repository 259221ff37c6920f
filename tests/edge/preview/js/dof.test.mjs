// Depth of field (dof.js) against values worked out by hand.
import test from "node:test";
import assert from "node:assert/strict";
import {
  hyperfocalMm, dofLimitsMm, blurDiscMm, circleOfConfusionMm, sensorHeightFromImageMm, sensorDiagonalMm,
  dofFromHeader, dofZone, formatDistanceMm, COC_RULES,
} from "../../../../edge/preview/static/dof.js";
import * as dofModule from "../../../../edge/preview/static/dof.js";

const close = (actual, expected, tol, what) => assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not ${expected} ± ${tol}`);

// 50 mm at T2.8 (used as N = 2.8), c = 0.025 mm, focused at 3 m = 3000 mm:
//   H  = f^2 / (N c) + f = 2500 / 0.07 + 50 = 35714.2857 + 50 = 35764.2857 mm
//   Dn = s (H - f) / (H + s - 2f) = 3000 x 35714.2857 / (35764.2857 + 3000 - 100)
//      = 107142857.14 / 38664.2857 = 2771.107 mm
//   Df = s (H - f) / (H - s) = 107142857.14 / (35764.2857 - 3000) = 107142857.14 / 32764.2857 = 3270.111 mm
//   depth = Df - Dn = 499.005 mm
test("50 mm, T2.8, focus 3 m, c 0.025 mm", () => {
  close(hyperfocalMm(50, 2.8, 0.025), 35764.2857, 1e-3, "hyperfocal");
  const d = dofLimitsMm(50, 2.8, 0.025, 3000);
  close(d.nearMm, 2771.107, 1e-3, "near");
  close(d.farMm, 3270.111, 1e-3, "far");
  close(d.depthMm, 499.005, 1e-3, "depth");
  close(d.hyperfocalMm, 35764.2857, 1e-3, "hyperfocal");
});

// Stopping down to T5.6 doubles N: H = 2500 / 0.14 + 50 = 17907.1429 mm;
//   Dn = 3000 x 17857.1429 / (17907.1429 + 2900) = 53571428.57 / 20807.1429 = 2574.665 mm
//   Df = 53571428.57 / (17907.1429 - 3000) = 53571428.57 / 14907.1429 = 3593.675 mm
test("stopping down deepens the field", () => {
  const d = dofLimitsMm(50, 5.6, 0.025, 3000);
  close(d.nearMm, 2574.665, 1e-3, "near");
  close(d.farMm, 3593.675, 1e-3, "far");
});

// Focused at the hyperfocal distance the far limit is infinity and the near limit H/2:
//   Dn = H (H - f) / (2H - 2f) = H / 2 exactly.
test("at the hyperfocal distance: near H/2, far infinity", () => {
  const h = hyperfocalMm(25, 4, 0.025); // 625 / 0.1 + 25 = 6275 mm
  assert.equal(h, 6275);
  const d = dofLimitsMm(25, 4, 0.025, h);
  assert.equal(d.farMm, Infinity);
  close(d.nearMm, 3137.5, 1e-9, "near");
  assert.equal(dofLimitsMm(25, 4, 0.025, 9000).farMm, Infinity); // beyond the hyperfocal too
});

// The blur disc of a point at a limit is the circle of confusion (that is what a limit is):
//   b(d) = f^2 / (N (s - f)) x |d - s| / d; at 5 m: 2500 / (2.8 x 2950) x 2000 / 5000 = 0.12107 mm
test("blur disc: c at both limits, 0 at focus, hand value at 5 m", () => {
  const d = dofLimitsMm(50, 2.8, 0.025, 3000);
  close(blurDiscMm(50, 2.8, 3000, d.nearMm), 0.025, 1e-12, "near");
  close(blurDiscMm(50, 2.8, 3000, d.farMm), 0.025, 1e-12, "far");
  assert.equal(blurDiscMm(50, 2.8, 3000, 3000), 0);
  close(blurDiscMm(50, 2.8, 3000, 5000), 0.121065, 1e-6, "at 5 m");
});

// Super 35 at 16:9, 24.89 mm wide: height 24.89 x 360 / 640 = 14.0006 mm,
//   diagonal sqrt(24.89^2 + 14.0006^2) = 28.5575 mm, / 1500 = 0.019038 mm
test("circle of confusion rules", () => {
  close(sensorHeightFromImageMm(24.89, 640, 360), 14.000625, 1e-9, "height");
  close(sensorDiagonalMm(3, 4), 5, 1e-12, "diagonal");
  close(circleOfConfusionMm("diag1500", 24.89, 14.000625), 0.0190383, 1e-7, "diag/1500");
  close(circleOfConfusionMm("diag1000", 24.89, 14.000625), 0.0285575, 1e-7, "diag/1000");
  assert.equal(circleOfConfusionMm("s35-0.025", 24.89, 14), 0.025);
  assert.throws(() => circleOfConfusionMm("nope", 1, 1), /unknown circle-of-confusion rule/);
  for (const rule of Object.values(COC_RULES)) assert.ok(rule.label);
});

test("bad lens values are RangeErrors, not numbers", () => {
  assert.throws(() => hyperfocalMm(0, 2.8, 0.025), RangeError);
  assert.throws(() => hyperfocalMm(50, NaN, 0.025), RangeError);
  assert.throws(() => dofLimitsMm(50, 2.8, 0.025, 40), /must exceed the focal length/);
  assert.throws(() => dofLimitsMm(50, 2.8, -1, 3000), RangeError);
});

test("from a frame header: lens and camera, metres in, millimetres out", () => {
  const lens = { focal_length_mm: 50, focus_distance_m: 3, t_stop: 2.8 };
  const camera = { sensor_width_mm: 24.89 };
  const d = dofFromHeader(lens, camera, 640, 360, "s35-0.025");
  close(d.nearMm, 2771.107, 1e-3, "near");
  close(d.farMm, 3270.111, 1e-3, "far");
  assert.equal(d.focusMm, 3000);
  const diag = dofFromHeader(lens, camera, 640, 360); // default: diagonal / 1500
  close(diag.cocMm, 0.0190383, 1e-7, "default CoC");
  assert.ok(diag.nearMm > d.nearMm && diag.farMm < d.farMm, "a smaller CoC gives a shallower field");
  assert.match(dofFromHeader({ focal_length_mm: 50, t_stop: 2.8 }, camera, 640, 360).reason, /focus distance/);
  assert.match(dofFromHeader(lens, {}, 640, 360).reason, /sensor width/);
  assert.match(dofFromHeader(null, camera, 640, 360).reason, /focal length/);
  assert.match(dofFromHeader({ ...lens, focus_distance_m: 0.04 }, camera, 640, 360).reason, /inside the focal length/);
});

test("zones and distance formatting", () => {
  assert.equal(dofZone(2000, 2771, 3270), "near");
  assert.equal(dofZone(3000, 2771, 3270), "in");
  assert.equal(dofZone(4000, 2771, 3270), "far");
  assert.equal(formatDistanceMm(2771.107), "2.77 m");
  assert.equal(formatDistanceMm(12345), "12.3 m");
  assert.equal(formatDistanceMm(Infinity), "∞");
  assert.equal(formatDistanceMm(null), "—");
  // 3000 mm = 118.11 in -> 118 in = 9 ft 10 in
  assert.equal(formatDistanceMm(3000, "ft"), "9' 10\"");
});

// The LiDAR measures from the projection centre (a real lens's entrance pupil), the focus marks
// from the sensor plane, `pupilToSensorMm` behind it: a LiDAR depth d lies at d + offset on the
// focus scale, so the tint takes the returns whose depth lies in [near - offset, far - offset].
test("the tint's limits in LiDAR depth are the focus limits less the pupil-to-sensor offset", () => {
  const d = dofLimitsMm(50, 2.8, 0.025, 3000); // 2771.107 .. 3270.111
  const lidar = dofModule.lidarDepthLimitsMm(d, 45);
  close(lidar.nearMm, 2726.107, 1e-3, "near");
  close(lidar.farMm, 3225.111, 1e-3, "far");
  assert.deepEqual(dofModule.lidarDepthLimitsMm(d, 0), { nearMm: d.nearMm, farMm: d.farMm });
  assert.equal(dofModule.lidarDepthLimitsMm({ nearMm: 3000, farMm: Infinity }, 45).farMm, Infinity);
  assert.equal(dofModule.focusScaleMm(2955, 45), 3000);
  assert.equal(dofModule.focusScaleMm(2955, 0), 2955);
});
