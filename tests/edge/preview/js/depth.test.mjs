// The sparse LiDAR depth map on the page: median readout, range scale, depth-of-field tint.
import test from "node:test";
import assert from "node:assert/strict";
import {
  medianDepthMm, paintRangeRgba, paintInsideRgba, rangeColour, rangeScaleLut, legendTicksMm, RANGE_SCALE_STOPS,
} from "../../../../edge/preview/static/depth.js";
// Names the readout's ring-row search added, read through the module so that each test that
// uses one fails by itself where the module lacks it.
import * as depth from "../../../../edge/preview/static/depth.js";

function map(w, h, points) {
  const d = new Uint16Array(w * h);
  for (const [x, y, mm] of points) d[y * w + x] = mm;
  return d;
}

test("the readout is the median of the valid pixels in the window, holes ignored", () => {
  const d = map(20, 10, [[10, 5, 3000], [11, 5, 3100], [9, 4, 2900], [12, 6, 9000], [10, 6, 3050]]);
  const r = medianDepthMm(d, 20, 10, 10, 5, 2);
  assert.deepEqual(r, { mm: 3050, count: 5, radiusPx: 2, window: "near" }); // 2900 3000 3050 3100 9000
  const even = medianDepthMm(map(5, 5, [[1, 1, 1000], [2, 2, 2000]]), 5, 5, 2, 2, 1);
  assert.equal(even.mm, 1500);
});

test("an empty window widens once to three times its size, then gives up", () => {
  const d = map(40, 20, [[20, 10, 4000]]);
  assert.deepEqual(medianDepthMm(d, 40, 20, 26, 10, 2), { mm: 4000, count: 1, radiusPx: 6, window: "near" });
  assert.equal(medianDepthMm(d, 40, 20, 35, 10, 2), null);
  assert.equal(medianDepthMm(d, 40, 20, -1, 10, 2), null); // off the map
  assert.equal(medianDepthMm(d, 40, 20, 40, 10, 2), null);
});

test("pixel i spans [i, i+1): a coordinate is floored onto its pixel, not rounded onto the next", () => {
  const d = map(20, 10, [[10, 5, 4000]]);
  // the right and bottom halves of pixel (10, 5) read pixel (10, 5)
  assert.equal(medianDepthMm(d, 20, 10, 10.7, 5.2, 0).mm, 4000);
  assert.equal(medianDepthMm(d, 20, 10, 10.2, 5.6, 0).mm, 4000);
  assert.equal(medianDepthMm(d, 20, 10, 10.999, 5.999, 0).mm, 4000);
  // the right half of pixel 9 is pixel 9, not 10
  assert.equal(medianDepthMm(d, 20, 10, 9.6, 5.0, 0), null);
  assert.equal(medianDepthMm(d, 20, 10, 10.0, 4.6, 0), null);
  // just left of the map is off it
  assert.equal(medianDepthMm(d, 20, 10, -0.3, 5, 0), null);
  assert.equal(medianDepthMm(d, 20, 10, 19.9, 5, 0), null);
});

/**
 * A spinning LiDAR's rings on a 640x360 map: rows 40 px apart (y = 100, 140, 180, 220), a
 * return every 2 px along each, the ring stepping down a pixel every 16 px (a slight slant), and
 * each row at its own distance (row k: 3000 + 2000 k mm, plus 10 mm per x mod 7).
 */
const RING_W = 640, RING_H = 360, RING_ROWS_PX = [100, 140, 180, 220];
function ringPoints() {
  const points = [];
  RING_ROWS_PX.forEach((rowY, k) => {
    for (let x = 0; x < RING_W; x += 2) points.push([x, rowY + ((x >> 4) & 1), 3000 + 2000 * k + 10 * (x % 7)]);
  });
  return points;
}
/** The median, worked out here, of the points inside [x0, x1] x [y0, y1]. */
function medianInside(points, x0, x1, y0, y1) {
  const v = points.filter(([x, y]) => x >= x0 && x <= x1 && y >= y0 && y <= y1).map((p) => p[2]).sort((a, b) => a - b);
  const mid = v.length >> 1;
  return { mm: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, count: v.length };
}

test("the ring-row search: its half-height is fy tan(2.2 deg), rounded up", () => {
  assert.equal(depth.ringSearchHalfHeightPx(1024), 40); // 1024 x 0.038416 = 39.34
  assert.equal(depth.ringSearchHalfHeightPx(1491.5), 58); // a 58 mm lens on the 640 px picture: 57.30
  assert.equal(depth.ringSearchHalfHeightPx(null), 0); // no intrinsics in the header: no search
  assert.equal(depth.ringSearchHalfHeightPx(NaN), 0);
  assert.equal(depth.ringSearchHalfHeightPx(-5), 0);
});

test("between LiDAR rows the readout is the median of the nearest row's returns", () => {
  const points = ringPoints();
  const d = map(RING_W, RING_H, points);
  const half = depth.ringSearchHalfHeightPx(1024);
  // (320, 126): the 4 px and 12 px windows hold nothing; row 140 is 14 px below, row 100 26 px above
  const below = medianDepthMm(d, RING_W, RING_H, 320.5, 126.9, 4, half);
  const want = medianInside(points, 308, 332, 138, 142); // x +- 3r, the row's y +- 2 px
  assert.ok(want.count >= 12 && want.mm >= 5000 && want.mm < 6000, "the synthetic row 140");
  assert.deepEqual(below, { ...want, radiusPx: 12, window: "ring", rowOffsetPx: 14, searchHalfHeightPx: 40 });
  // (320, 118): row 100 is 17 px above (it steps to y = 101 left of x = 320), row 140 22 px below
  const above = medianDepthMm(d, RING_W, RING_H, 320, 118, 4, half);
  assert.deepEqual(above, { ...medianInside(points, 308, 332, 98, 102), radiusPx: 12, window: "ring", rowOffsetPx: -17, searchHalfHeightPx: 40 });
  assert.ok(above.mm >= 3000 && above.mm < 4000);
  // without the header's fy there is no row search: the old answer, none
  assert.equal(medianDepthMm(d, RING_W, RING_H, 320, 118, 4), null);
  // rows farther than the search reaches: none
  const sparse = map(RING_W, RING_H, points.filter(([, y]) => y < 110 || y > 210));
  assert.equal(medianDepthMm(sparse, RING_W, RING_H, 320, 160, 4, half), null); // 59 px from each
});

test("the near-cursor window comes first: when it holds returns the row search is not used", () => {
  const points = ringPoints();
  const d = map(RING_W, RING_H, points);
  const half = depth.ringSearchHalfHeightPx(1024);
  // (320, 131): row 140 is 9 px below, inside the 12 px window
  assert.deepEqual(medianDepthMm(d, RING_W, RING_H, 320, 131, 4, half), { ...medianInside(points, 308, 332, 119, 143), radiusPx: 12, window: "near" });
  // a return 3 px from the cursor is the whole answer, though a full row lies 10 px above
  const extra = [[321, 153, 9000], ...points];
  const near = medianDepthMm(map(RING_W, RING_H, extra), RING_W, RING_H, 320, 150, 4, half);
  assert.deepEqual(near, { mm: 9000, count: 1, radiusPx: 4, window: "near" });
  // the 12 px window takes everything in it, both the row 10 px above and a return 11 px below
  const both = medianDepthMm(map(RING_W, RING_H, [[320, 161, 9000], ...points]), RING_W, RING_H, 320, 150, 4, half);
  assert.equal(both.window, "near");
  assert.equal(both.count, medianInside(points, 308, 332, 138, 162).count + 1);
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
