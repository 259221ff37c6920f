// The focus tool's readout: the distance the viewer reads under a point (view.js distanceAt)
// and what the focus panel writes of it (panels.js renderFocus), with a stand-in document.
import test from "node:test";
import assert from "node:assert/strict";
import { Viewer } from "../../../../edge/preview/static/view.js";
import { renderFocus } from "../../../../edge/preview/static/panels.js";
import { dofLimitsMm } from "../../../../edge/preview/static/dof.js";

/** The elements renderFocus writes, by id; the range bar is left out (it draws on a canvas). */
function fakeDocument() {
  const elements = new Map();
  globalThis.document = {
    getElementById(id) {
      if (id === "ranger-bar") return null;
      if (!elements.has(id)) elements.set(id, { textContent: "", title: "", classList: { toggle() {} } });
      return elements.get(id);
    },
  };
  return elements;
}

/** Depth map 640x360 with LiDAR rows at y = 100 (3 m) and y = 140 (5 m), a return every 2 px. */
function ringFrame(camera = { fy_px: 1024 }) {
  const width = 640, height = 360;
  const mm = new Uint16Array(width * height);
  for (let x = 0; x < width; x += 2) {
    mm[100 * width + x] = 3000;
    mm[140 * width + x] = 5000;
  }
  return { header: { seq: 1, width, height, camera }, depth: { mm, width, height } };
}

const distanceAt = (frame, settings, point) => Viewer.prototype.distanceAt.call({ frame, settings }, point);
const at = (xPx, yPx) => ({ view: 0, u: xPx / 640, v: yPx / 360 });

test("between rows the viewer searches the rows as far as the header's fy reaches", () => {
  const settings = { depth: false, focus: true, pupilToSensorMm: 0 };
  const got = distanceAt(ringFrame(), settings, at(320.5, 126.5)); // row 140 is 14 px below
  assert.ok(got.value, `no reading: ${got.why}`);
  assert.equal(got.value.mm, 5000);
  assert.equal(got.value.window, "ring");
  assert.equal(got.value.rowOffsetPx, 14);
  // a header without intrinsics: no row search, and "no return" says so
  assert.equal(distanceAt(ringFrame(null), settings, at(320.5, 126.5)).value, null);
});

test("the entrance-pupil-to-sensor offset is added to the distance read", () => {
  const settings = { depth: false, focus: true, pupilToSensorMm: 45 };
  const got = distanceAt(ringFrame(), settings, at(320.5, 100.5));
  assert.equal(got.value.mm, 3045);
  assert.equal(got.value.lidarMm, 3000);
  assert.equal(got.value.pupilToSensorMm, 45);
  const plain = distanceAt(ringFrame(), { ...settings, pupilToSensorMm: 0 }, at(320.5, 100.5));
  assert.equal(plain.value.mm, 3000);
});

test("the readout's title: one return is singular, several a median", () => {
  const doc = fakeDocument();
  const title = (value, pinned = false) => {
    renderFocus(null, { value, why: null }, "m", pinned);
    return doc.get("depth-readout").title;
  };
  assert.equal(title({ mm: 3000, count: 1, radiusPx: 4, window: "near" }), "1 LiDAR return within 4 px");
  assert.equal(title({ mm: 3000, count: 2, radiusPx: 12, window: "near" }), "median of 2 LiDAR returns within 12 px");
  assert.equal(title({ mm: 3000, count: 7, radiusPx: 12, window: "ring", rowOffsetPx: -18 }),
    "median of 7 LiDAR returns in the row 18 px above (none within 12 px)");
  assert.equal(title({ mm: 3000, count: 1, radiusPx: 12, window: "ring", rowOffsetPx: 23 }),
    "1 LiDAR return in the row 23 px below (none within 12 px)");
  assert.equal(title({ mm: 3000, count: 3, radiusPx: 4, window: "near" }, true), "median of 3 LiDAR returns within 4 px (pinned: Esc to drop)");
  assert.equal(doc.get("depth-readout").textContent, "3.00 m");
  delete globalThis.document;
});

test("the panel compares the distance with the offset added against the focus distance", () => {
  const doc = fakeDocument();
  // 50 mm T2.8 at 3 m, c 0.025 mm: in focus from 2771 mm to 3270 mm (dof.test.mjs)
  const dof = { focalLengthMm: 50, tStop: 2.8, focusMm: 3000, cocMm: 0.025, ruleId: "s35-0.025", ...dofLimitsMm(50, 2.8, 0.025, 3000) };
  const reading = (lidarMm, offsetMm) => ({ value: { mm: lidarMm + offsetMm, lidarMm, pupilToSensorMm: offsetMm, count: 5, radiusPx: 4, window: "near" }, why: null });
  // 2.955 m from the pupil, the pupil 45 mm in front of the sensor: on the focus mark
  renderFocus(dof, reading(2955, 45), "m", false);
  assert.equal(doc.get("depth-readout").textContent, "3.00 m");
  assert.equal(doc.get("depth-where").textContent, "at the focus distance, inside the depth of field");
  assert.equal(doc.get("depth-readout").title, "median of 5 LiDAR returns within 4 px, + 45 mm entrance pupil to sensor");
  // 2.755 m from the pupil is short of the near limit; 45 mm more is inside it
  renderFocus(dof, reading(2755, 0), "m", false);
  assert.match(doc.get("depth-where").textContent, /nearer than the near limit$/);
  renderFocus(dof, reading(2755, 45), "m", false);
  assert.match(doc.get("depth-where").textContent, /^0\.20 m in front of focus, inside the depth of field$/);
  delete globalThis.document;
});
