// The sparse LiDAR depth map on the page: median readout, range scale, depth-of-field tint.
import test from "node:test";
import assert from "node:assert/strict";
import {
  medianDepthMm, paintRangeRgba, paintInsideRgba, rangeColour, rangeScaleLut, legendTicksMm, RANGE_SCALE_STOPS,
} from "../../../../edge/preview/static/depth.js";

function map(w, h, points) {
  const d = new Uint16Array(w * h);
  for (const [x, y, mm] of points) d[y * w + x] = mm;
  return d;
}

test("the readout is the median of the valid pixels in the window, holes ignored", () => {
  const d = map(20, 10, [[10, 5, 3000], [11, 5, 3100], [9, 4, 2900], [12, 6, 9000], [10, 6, 3050]]);
  const r = medianDepthMm(d, 20, 10, 10, 5, 2);
  assert.deepEqual(r, { mm: 3050, count: 5, radiusPx: 2 }); // 2900 3000 3050 3100 9000
  const even = medianDepthMm(map(5, 5, [[1, 1, 1000], [2, 2, 2000]]), 5, 5, 2, 2, 1);
  assert.equal(even.mm, 1500);
});

test("an empty window widens once to three times its size, then gives up", () => {
  const d = map(40, 20, [[20, 10, 4000]]);
  assert.deepEqual(medianDepthMm(d, 40, 20, 26, 10, 2), { mm: 4000, count: 1, radiusPx: 6 });
  assert.equal(medianDepthMm(d, 40, 20, 35, 10, 2), null);
  assert.equal(medianDepthMm(d, 40, 20, -1, 10, 2), null); // off the map
  assert.equal(medianDepthMm(d, 40, 20, 40, 10, 2), null);
});

test("the range scale runs from its first stop to its last", () => {
  assert.deepEqual(rangeColour(0), RANGE_SCALE_STOPS[0][1]);
  assert.deepEqual(rangeColour(1), RANGE_SCALE_STOPS.at(-1)[1]);
  assert.deepEqual(rangeColour(-5), rangeColour(0));
  assert.deepEqual(rangeColour(0.125), [255, 104, 40]); // halfway between the first two stops
  const lut = rangeScaleLut();
  assert.deepEqual([...lut.subarray(0, 3)], RANGE_SCALE_STOPS[0][1]);
  assert.deepEqual([...lut.subarray(765, 768)], RANGE_SCALE_STOPS.at(-1)[1]);
});

test("painting the range: returns coloured by distance, holes transparent, nearer wins", () => {
  const w = 6, h = 3;
  const d = map(w, h, [[1, 1, 1000], [4, 1, 9000], [2, 1, 5000]]);
  const rgba = new Uint8Array(w * h * 4).fill(7);
  const n = paintRangeRgba(d, w, h, rgba, 1000, 9000, 0);
  assert.equal(n, 3);
  const px = (x, y) => [...rgba.subarray(4 * (y * w + x), 4 * (y * w + x) + 4)];
  assert.deepEqual(px(1, 1), [...RANGE_SCALE_STOPS[0][1], 255]);
  assert.deepEqual(px(4, 1), [...RANGE_SCALE_STOPS.at(-1)[1], 255]);
  assert.equal(px(0, 0)[3], 0);
  assert.equal(px(3, 1)[3], 0);
  // with dots of radius 1 the 1 m and 5 m dots overlap at x = 1..2 and x = 2..3: the nearer keeps its pixels
  paintRangeRgba(d, w, h, rgba, 1000, 9000, 1);
  assert.deepEqual(px(2, 0), [...RANGE_SCALE_STOPS[0][1], 255]);
  // x = 3 is reached by the 5 m dot and the 9 m one: the 5 m colour, scale index round(0.5 x 255) = 128
  assert.deepEqual(px(3, 2).slice(0, 3), rangeColour(128 / 255));
  assert.equal(px(0, 0)[3], 255);
});

test("the depth-of-field tint marks only returns inside the limits", () => {
  const w = 5, h = 1;
  const d = map(w, h, [[0, 0, 2000], [2, 0, 3000], [4, 0, 4000]]);
  const rgba = new Uint8Array(w * 4);
  const inside = paintInsideRgba(d, w, h, rgba, 2771, 3270, [1, 2, 3], 0);
  assert.equal(inside, 1);
  assert.deepEqual([...rgba.subarray(8, 12)], [1, 2, 3, 255]);
  assert.equal(rgba[3], 0);
  assert.equal(rgba[19], 0);
  // a nearer return outside the field hides the farther one inside it where their dots overlap
  const d2 = map(3, 1, [[0, 0, 1000], [1, 0, 3000]]);
  const out = new Uint8Array(12);
  paintInsideRgba(d2, 3, 1, out, 2771, 3270, [9, 9, 9], 1);
  assert.equal(out[3], 0); // x=0: the 1 m return
  assert.equal(out[7], 0); // x=1: both reach; 1 m is nearer
  assert.equal(out[11], 255); // x=2: only the 3 m return
});

test("legend ticks are round numbers inside the range", () => {
  assert.deepEqual(legendTicksMm(500, 12000, 5), [2500, 5000, 7500, 10000]);
  assert.deepEqual(legendTicksMm(0, 10000, 6), [0, 2000, 4000, 6000, 8000, 10000]);
  assert.deepEqual(legendTicksMm(3, 3), [3]);
});
