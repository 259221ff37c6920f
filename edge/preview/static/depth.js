/**
 * The LiDAR depth map on the page: reading a distance, painting the range colour scale and
 * the depth-of-field tint. Pure functions of typed arrays (no DOM).
 *
 * The map is uint16 millimetres along the optical axis from the camera's projection centre
 * (edge/fusion/depth.py), 0 where no LiDAR return landed. Pixel i of the map spans [i, i+1) of
 * the picture's coordinates (view.js pointAt), so a coordinate is floored onto its pixel.
 *
 * A spinning LiDAR's returns cover the picture in sparse rows, one per ring: the VLP-16's rings
 * are 2 degrees apart, fy tan(2 deg) pixels on the picture (about 36-52 px at 40-58 mm on the
 * 640 px preview), far more than a window around the cursor can bridge. So
 * - a distance is the median of the valid pixels in a square window around the point asked
 *   for (half-size r, then 3r when that holds none), never one pixel;
 * - when both are empty the cursor lies between rings: the search widens to x +- 3r and
 *   y +- ceil(fy tan(RING_SEARCH_DEG)), which reaches the ring above and the one below, and
 *   the distance is the median of the returns of the ring row nearest the cursor (that row's
 *   y +- RING_ROW_HALF_HEIGHT_PX: a ring is not quite level across the window);
 * - painting draws each return as a square dot of (2r+1) pixels a side; where dots overlap the
 *   nearer return wins, as it would hide the farther one.
 */

/** The ring-row search reaches this far above and below the cursor: the 2 degrees between the
 * VLP-16's rings and a margin for a ring that bends across the picture (degrees). */
export const RING_SEARCH_DEG = 2.2;
/** The rows, each side of the nearest return's, that count as its ring (depth-map pixels). */
export const RING_ROW_HALF_HEIGHT_PX = 2;

/** Colours of the range scale, near (0) to far (1): warm near, cool far. */
export const RANGE_SCALE_STOPS = Object.freeze([
  [0.0, [255, 48, 48]],
  [0.25, [255, 160, 32]],
  [0.5, [236, 232, 64]],
  [0.75, [48, 208, 128]],
  [1.0, [56, 104, 255]],
]);

/** The range scale's colour at t in 0..1, [r, g, b]. */
export function rangeColour(t) {
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < RANGE_SCALE_STOPS.length; i++) {
    const [t1, c1] = RANGE_SCALE_STOPS[i];
    if (x <= t1) {
      const [t0, c0] = RANGE_SCALE_STOPS[i - 1];
      const u = (x - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => Math.round(c0[k] + (c1[k] - c0[k]) * u));
    }
  }
  return RANGE_SCALE_STOPS[RANGE_SCALE_STOPS.length - 1][1].slice();
}

/** 256 colours of the range scale, RGB interleaved. */
export function rangeScaleLut() {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(rangeColour(i / 255), 3 * i);
  return lut;
}

function medianOf(values, n) {
  const v = values.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * How far above and below the cursor the ring-row search reaches, in depth-map pixels, for a
 * vertical focal length of `fyPx` depth-map pixels: ceil(fy tan(RING_SEARCH_DEG)); 0 (no
 * search) without a usable fy.
 */
export function ringSearchHalfHeightPx(fyPx, ringSearchDeg = RING_SEARCH_DEG) {
  if (!(typeof fyPx === "number" && Number.isFinite(fyPx) && fyPx > 0)) return 0;
  return Math.ceil(fyPx * Math.tan((ringSearchDeg * Math.PI) / 180));
}

/** The valid depths in the pixel box [x0, x1] x [y0, y1] (inclusive, inside the map) into `out`; their count. */
function gather(depthMm, width, x0, x1, y0, y1, out) {
  let n = 0;
  for (let yy = y0; yy <= y1; yy++) {
    const row = yy * width;
    for (let xx = x0; xx <= x1; xx++) {
      const d = depthMm[row + xx];
      if (d !== 0) out[n++] = d;
    }
  }
  return n;
}

/**
 * The distance at the picture coordinate (xPx, yPx) of a depth map (`width` x `height`
 * pixels; pixel i spans [i, i+1)): the median (mm) of the valid (non-zero) depths
 * - in the square window of half-size `radiusPx` around the point's pixel, else
 * - in the one of half-size 3 `radiusPx`, else
 * - when `ringHalfHeightPx` > 0 (ringSearchHalfHeightPx), of the ring row nearest the point
 *   within x +- 3 `radiusPx`, y +- `ringHalfHeightPx`: the row of the return nearest in y (then
 *   in x), its y +- RING_ROW_HALF_HEIGHT_PX, inside that search box.
 * @returns {{mm: number, count: number, radiusPx: number, window: "near"} |
 *   {mm: number, count: number, radiusPx: number, window: "ring", rowOffsetPx: number, searchHalfHeightPx: number} | null}
 *   `radiusPx`: the half-width of the window used; `rowOffsetPx`: the ring row's y less the
 *   point's (negative: above); null: no return near the point, or the point is off the map
 */
export function medianDepthMm(depthMm, width, height, xPx, yPx, radiusPx = 4, ringHalfHeightPx = 0) {
  const cx = Math.floor(xPx);
  const cy = Math.floor(yPx);
  if (!(cx >= 0 && cy >= 0 && cx < width && cy < height)) return null;
  const wide = radiusPx * 3;
  const tall = Math.max(wide, ringHalfHeightPx | 0);
  const x0 = Math.max(0, cx - wide);
  const x1 = Math.min(width - 1, cx + wide);
  const values = new Uint16Array((x1 - x0 + 1) * (2 * tall + 1));
  for (const r of [radiusPx, wide]) {
    const n = gather(depthMm, width, Math.max(0, cx - r), Math.min(width - 1, cx + r), Math.max(0, cy - r), Math.min(height - 1, cy + r), values);
    if (n > 0) return { mm: medianOf(values, n), count: n, radiusPx: r, window: "near" };
  }
  if (!(ringHalfHeightPx > wide)) return null;
  const y0 = Math.max(0, cy - tall);
  const y1 = Math.min(height - 1, cy + tall);
  // The return nearest in y, then in x: its row is the ring's.
  let rowY = -1;
  let best = Infinity;
  for (let yy = y0; yy <= y1; yy++) {
    const row = yy * width;
    for (let xx = x0; xx <= x1; xx++) {
      if (depthMm[row + xx] === 0) continue;
      const key = Math.abs(yy - cy) * (2 * wide + 2) + Math.abs(xx - cx);
      if (key < best) [best, rowY] = [key, yy];
    }
  }
  if (rowY < 0) return null;
  const n = gather(depthMm, width, x0, x1, Math.max(y0, rowY - RING_ROW_HALF_HEIGHT_PX), Math.min(y1, rowY + RING_ROW_HALF_HEIGHT_PX), values);
  return { mm: medianOf(values, n), count: n, radiusPx: wide, window: "ring", rowOffsetPx: rowY - cy, searchHalfHeightPx: tall };
}

/**
 * What a reading (medianDepthMm's answer) was taken from, as a sentence's start: "1 LiDAR
 * return within 4 px", "median of 7 LiDAR returns in the row 18 px above (none within 12 px)".
 */
export function readingSource(found) {
  const returns = found.count === 1 ? "1 LiDAR return" : `median of ${found.count} LiDAR returns`;
  if (found.window !== "ring") return `${returns} within ${found.radiusPx} px`;
  const off = found.rowOffsetPx;
  const where = off === 0 ? "in the cursor's row" : `in the row ${Math.abs(off)} px ${off < 0 ? "above" : "below"}`;
  return `${returns} ${where} (none within ${found.radiusPx} px)`;
}

/**
 * Paint `depthMm` (width x height) into `rgba` (the same size, RGBA bytes) with the range
 * scale from `nearMm` to `farMm`; pixels with no return get alpha 0, depths outside the
 * range take the end colours. `zbuf`: a scratch Uint16Array of width*height (optional).
 * @returns {number} the returns painted
 */
export function paintRangeRgba(depthMm, width, height, rgba, nearMm, farMm, dotRadiusPx = 1, lut = rangeScaleLut(), zbuf = null) {
  const n = width * height;
  rgba.fill(0);
  const z = zbuf && zbuf.length === n ? zbuf.fill(0xffff) : new Uint16Array(n).fill(0xffff);
  const span = Math.max(1, farMm - nearMm);
  const scale = 255 / span;
  const r = dotRadiusPx | 0;
  let painted = 0;
  for (let i = 0; i < n; i++) {
    const d = depthMm[i];
    if (d === 0) continue;
    painted++;
    let k = Math.round((d - nearMm) * scale);
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    const cr = lut[3 * k], cg = lut[3 * k + 1], cb = lut[3 * k + 2];
    const px = i % width;
    const py = (i - px) / width;
    const ya = py - r < 0 ? 0 : py - r, yb = py + r >= height ? height - 1 : py + r;
    const xa = px - r < 0 ? 0 : px - r, xb = px + r >= width ? width - 1 : px + r;
    for (let yy = ya; yy <= yb; yy++) {
      for (let xx = xa, j = yy * width + xa; xx <= xb; xx++, j++) {
        if (d >= z[j]) continue;
        z[j] = d;
        const o = 4 * j;
        rgba[o] = cr; rgba[o + 1] = cg; rgba[o + 2] = cb; rgba[o + 3] = 255;
      }
    }
  }
  return painted;
}

/**
 * Paint, in `colour` ([r, g, b]), the returns that lie inside [nearMm, farMm] (the depth of
 * field); everything else gets alpha 0. Same dot and overlap rules as paintRangeRgba.
 * @returns {number} the returns inside the depth of field
 */
export function paintInsideRgba(depthMm, width, height, rgba, nearMm, farMm, colour, dotRadiusPx = 1, zbuf = null) {
  const n = width * height;
  rgba.fill(0);
  const z = zbuf && zbuf.length === n ? zbuf.fill(0xffff) : new Uint16Array(n).fill(0xffff);
  const r = dotRadiusPx | 0;
  const [cr, cg, cb] = colour;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const d = depthMm[i];
    if (d === 0) continue;
    const within = d >= nearMm && d <= farMm;
    inside += within ? 1 : 0;
    const px = i % width;
    const py = (i - px) / width;
    const ya = py - r < 0 ? 0 : py - r, yb = py + r >= height ? height - 1 : py + r;
    const xa = px - r < 0 ? 0 : px - r, xb = px + r >= width ? width - 1 : px + r;
    for (let yy = ya; yy <= yb; yy++) {
      for (let xx = xa, j = yy * width + xa; xx <= xb; xx++, j++) {
        if (d >= z[j]) continue;
        z[j] = d;
        const o = 4 * j;
        // An outside return nearer than an inside one hides it: it is cleared, not tinted.
        rgba[o] = cr; rgba[o + 1] = cg; rgba[o + 2] = cb; rgba[o + 3] = within ? 255 : 0;
      }
    }
  }
  return inside;
}

/** Nice tick values (mm) for a legend from nearMm to farMm, about `count` of them. */
export function legendTicksMm(nearMm, farMm, count = 5) {
  const span = farMm - nearMm;
  if (!(span > 0)) return [nearMm];
  const raw = span / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag;
  for (const m of [1, 2, 2.5, 5, 10]) if (Math.abs(Math.log((m * mag) / raw)) < Math.abs(Math.log(step / raw))) step = m * mag;
  const ticks = [];
  for (let t = Math.ceil(nearMm / step) * step; t <= farMm + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}
