// Monitor tools (monitor.js) on small pixel arrays with known answers.
import test from "node:test";
import assert from "node:assert/strict";
import {
  lumaFromRgba, falseColourLut, applyFalseColour, applyZebras, applyPeaking, peakingThreshold, waveformCounts,
  paradeCounts, histograms, traceLut, renderTraceRgba, renderHistogramRgba, percentToCode, codeToPercent, ARRI_LIKE_BANDS,
} from "../../../../edge/preview/static/monitor.js";

function rgbaOf(pixels) {
  const out = new Uint8ClampedArray(pixels.length * 4);
  pixels.forEach(([r, g, b], i) => out.set([r, g, b, 255], 4 * i));
  return out;
}

function grey(w, h, valueAt) {
  const px = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = valueAt(x, y);
    px.push([v, v, v]);
  }
  return rgbaOf(px);
}

test("Rec.709 luma in integers: weights 54/183/19 of 256", () => {
  const rgba = rgbaOf([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]);
  const y = lumaFromRgba(rgba, new Uint8Array(6));
  // red (54 x 255 + 128) >> 8 = 54; green (183 x 255 + 128) >> 8 = 182; blue (19 x 255 + 128) >> 8 = 19
  assert.deepEqual([...y], [255, 0, 54, 182, 19, 128]);
  // the real Rec.709 weights give 54.2, 182.4, 18.4: within one code
  for (const [got, exact] of [[54, 0.2126 * 255], [182, 0.7152 * 255], [19, 0.0722 * 255]]) assert.ok(Math.abs(got - exact) <= 1);
});

test("percent and code values", () => {
  assert.equal(percentToCode(0), 0);
  assert.equal(percentToCode(100), 255);
  assert.equal(percentToCode(95), 243); // 0.95 x 255 = 242.25 -> the first code at or above it
  assert.ok(codeToPercent(243) >= 95 && codeToPercent(242) < 95);
});

test("false colour bands: the ARRI-like scale, grey between bands", () => {
  const lut = falseColourLut();
  const colourOf = (code) => [...lut.subarray(3 * code, 3 * code + 3)];
  const band = (name) => ARRI_LIKE_BANDS.find((b) => b.name === name).rgb;
  assert.deepEqual(colourOf(0), band("black clip")); // 0 %
  assert.deepEqual(colourOf(6), band("black clip")); // 2.35 %
  assert.deepEqual(colourOf(7), band("near black")); // 2.75 %
  assert.deepEqual(colourOf(11), [11, 11, 11]); // 4.3 %: grey
  assert.deepEqual(colourOf(97), band("18 % grey")); // 38.04 %
  assert.deepEqual(colourOf(107), band("18 % grey")); // 41.96 %
  assert.deepEqual(colourOf(108), [108, 108, 108]); // 42.35 %
  assert.deepEqual(colourOf(133), band("one stop over grey")); // 52.2 %
  assert.deepEqual(colourOf(248), band("near white")); // 97.25 %
  assert.deepEqual(colourOf(253), band("white clip")); // 99.2 %
  assert.deepEqual(colourOf(255), band("white clip")); // 100 % is in the top band
  // a band holds its lower bound, not its upper one (except the top band's 100 %)
  const own = falseColourLut([{ name: "test", loPct: codeToPercent(5), hiPct: codeToPercent(10), rgb: [1, 2, 3] }]);
  assert.deepEqual([...own.subarray(3 * 4, 3 * 4 + 3)], [4, 4, 4]);
  assert.deepEqual([...own.subarray(3 * 5, 3 * 5 + 3)], [1, 2, 3]);
  assert.deepEqual([...own.subarray(3 * 9, 3 * 9 + 3)], [1, 2, 3]);
  assert.deepEqual([...own.subarray(3 * 10, 3 * 10 + 3)], [10, 10, 10]);
  const rgba = rgbaOf([[255, 255, 255], [100, 100, 100]]);
  applyFalseColour(rgba, lumaFromRgba(rgba, new Uint8Array(2)), lut);
  assert.deepEqual([...rgba.subarray(0, 4)], [...band("white clip"), 255]);
  assert.deepEqual([...rgba.subarray(4, 8)], [...band("18 % grey"), 255]); // code 100 = 39.2 %
});

test("zebras stripe only what reaches the level", () => {
  const w = 16, h = 2;
  // columns 0-6 just under the level (247), column 7 at it (248), 8-15 over it (250)
  const rgba = grey(w, h, (x) => (x < 7 ? 247 : x === 7 ? 248 : 250));
  const y = lumaFromRgba(rgba, new Uint8Array(w * h));
  const over = applyZebras(rgba, y, w, h, percentToCode(97), 0); // 97 % = code 248 (247.35 rounded up)
  assert.equal(over, 18); // 9 columns at or over the level, 2 rows
  for (let x = 0; x < 7; x++) assert.equal(rgba[4 * x], 247, `x=${x} is under the level`);
  assert.equal(rgba[4 * (w + 7)], 20); // x=7, y=1: at the level, (7 + 1) & 7 = 0: a dark stripe
  // over the level: dark where (x + y) & 7 < 4, as is elsewhere
  assert.equal(rgba[4 * 8], 20); // x=8, y=0: 8 & 7 = 0
  assert.equal(rgba[4 * 12], 250); // x=12: 12 & 7 = 4
  assert.equal(rgba[4 * (w + 11)], 250); // x=11, y=1: 12 & 7 = 4
});

test("peaking marks a hard edge and leaves flat and soft areas", () => {
  const w = 12, h = 5;
  const hard = grey(w, h, (x) => (x < 6 ? 20 : 220));
  const y = lumaFromRgba(hard, new Uint8Array(w * h));
  const marked = applyPeaking(hard, y, w, h, peakingThreshold(50), [255, 0, 0]);
  // Sobel |gx| at the step: 4 x 200 = 800 for x = 5 and 6, rows 1..3
  assert.equal(marked, 6);
  assert.deepEqual([...hard.subarray(4 * (2 * w + 5), 4 * (2 * w + 5) + 3)], [255, 0, 0]);
  assert.equal(hard[4 * (2 * w + 2)], 20);
  assert.equal(hard[4 * 5], 20); // border row never marked
  // a horizontal edge (dark above, bright below) is found by the vertical gradient alone
  const flat = grey(6, 6, (x, yy) => (yy < 3 ? 20 : 220));
  const yf = lumaFromRgba(flat, new Uint8Array(36));
  assert.equal(applyPeaking(flat, yf, 6, 6, peakingThreshold(50), [0, 0, 255]), 8); // rows 2 and 3, x = 1..4
  assert.deepEqual([...flat.subarray(4 * (2 * 6 + 1), 4 * (2 * 6 + 1) + 3)], [0, 0, 255]);
  const soft = grey(w, h, (x) => 20 + 10 * x); // a ramp: |gx| = 4 x 20 = 80
  const ys = lumaFromRgba(soft, new Uint8Array(w * h));
  assert.equal(applyPeaking(soft, ys, w, h, peakingThreshold(50), [255, 0, 0]), 0);
  assert.equal(applyPeaking(soft, ys, w, h, peakingThreshold(100), [255, 0, 0]), 30); // threshold 60 < 80
  assert.equal(peakingThreshold(0), 600);
  assert.equal(peakingThreshold(100), 60);
});

test("waveform: each column bin counts its pixels at their level, top row = 100 %", () => {
  const w = 4, h = 3;
  const rgba = grey(w, h, (x) => (x < 2 ? 0 : 255));
  const y = lumaFromRgba(rgba, new Uint8Array(w * h));
  const counts = waveformCounts(y, w, h, 2);
  assert.equal(counts.reduce((a, b) => a + b, 0), w * h);
  assert.equal(counts[255 * 2 + 0], 6); // column bin 0, level 0 -> bottom row
  assert.equal(counts[0 * 2 + 1], 6); // column bin 1, level 255 -> top row
});

test("scopes over every other row, and on pixel data that is not word-aligned", () => {
  const w = 3, h = 4;
  const rgba = rgbaOf([...Array(w * h).keys()].map((i) => [i * 10, 100 + i, 200 - i]));
  const y = lumaFromRgba(rgba, new Uint8Array(w * h));
  const half = waveformCounts(y, w, h, 3, undefined, 2);
  assert.equal(half.reduce((a, b) => a + b, 0), 6); // rows 0 and 2
  assert.equal(half[(255 - y[2 * w + 1]) * 3 + 1], 1);
  assert.equal(half[(255 - y[w + 1]) * 3 + 1], 0); // row 1 is not read
  const p2 = paradeCounts(rgba, w, h, 1, undefined, 2);
  assert.equal(p2[(255 - 60) * 3], 1); // pixel 6 (row 2): red 60
  assert.equal(p2[(255 - 30) * 3], 0); // pixel 3 (row 1) is not read
  // the same pixels one byte into a buffer: the byte-by-byte paths give the same answers
  const shifted = new Uint8ClampedArray(rgba.length + 1).subarray(1);
  shifted.set(rgba);
  assert.deepEqual([...lumaFromRgba(shifted, new Uint8Array(w * h))], [...y]);
  assert.deepEqual([...paradeCounts(shifted, w, h, 1, undefined, 2)], [...p2]);
  const a = histograms(rgba, y);
  const b = histograms(shifted, y);
  for (const k of ["y", "r", "g", "b"]) assert.deepEqual([...b[k]], [...a[k]]);
});

test("parade: R, G and B side by side", () => {
  const rgba = rgbaOf([[255, 0, 10], [255, 0, 10]]);
  const c = paradeCounts(rgba, 2, 1, 1);
  const at = (v, ch) => c[(255 - v) * 3 + ch];
  assert.equal(at(255, 0), 2);
  assert.equal(at(0, 1), 2);
  assert.equal(at(10, 2), 2);
  assert.equal(c.reduce((a, b) => a + b, 0), 6);
});

test("histograms count every pixel once per channel", () => {
  const rgba = rgbaOf([[255, 0, 0], [255, 0, 0], [0, 0, 255]]);
  const y = lumaFromRgba(rgba, new Uint8Array(3));
  const h = histograms(rgba, y);
  assert.equal(h.r[255], 2);
  assert.equal(h.r[0], 1);
  assert.equal(h.b[255], 1);
  assert.equal(h.y[54], 2);
  assert.equal(h.y[19], 1);
});

test("rendering traces and histograms", () => {
  const lut = traceLut(100);
  assert.equal(lut[0], 0);
  assert.equal(lut[100], 255);
  assert.ok(lut[1] >= 40 && lut[50] < lut[100]);
  const counts = new Uint32Array(2 * 256);
  counts[0] = 1000; // column 0, top row, saturated
  const out = new Uint8ClampedArray(2 * 256 * 4);
  renderTraceRgba(counts, 2, out, [[255, 128, 0]], lut);
  assert.deepEqual([...out.subarray(0, 4)], [254, 127, 0, 255]);
  assert.deepEqual([...out.subarray(4, 8)], [0, 0, 0, 255]);
  const hist = new Uint32Array(256);
  hist[50] = 10; // the tallest bar fills the height
  hist[100] = 5;
  hist[255] = 1000; // clipped white is left out of the scale: it shows as a full bar
  const img = new Uint8ClampedArray(256 * 4 * 4);
  renderHistogramRgba([{ counts: hist, rgb: [200, 0, 0] }], 4, img);
  const bar = (v) => [0, 1, 2, 3].filter((row) => img[4 * (row * 256 + v)] > 0).length;
  assert.equal(bar(50), 4);
  assert.equal(bar(100), 2);
  assert.equal(bar(10), 0);
  assert.equal(bar(255), 4);
});
