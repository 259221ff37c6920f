/**
 * Monitor tools on the preview image: false colour, zebras, focus peaking, waveform (luma or
 * RGB parade) and histogram. Pure functions of RGBA pixel arrays (canvas ImageData.data) and
 * typed arrays, no DOM; one pass per tool, integer arithmetic, no calls per pixel.
 *
 * Levels. The preview images are 8-bit, full-range, display-referred (Rec.709) JPEGs, so a
 * code value v reads as v / 255 * 100 % ("IRE" on the page). Luma is Rec.709 luma of the
 * encoded values, Y' = 0.2126 R' + 0.7152 G' + 0.0722 B', in integers as
 * (54 R' + 183 G' + 19 B' + 128) >> 8 (weights x 256; white stays 255).
 *
 * False colour: ARRI_LIKE_BANDS, the bands of the common ARRI-style Rec.709 false-colour scale
 * (purple under black, blue near black, green at 18 % grey, pink one stop over, yellow near
 * white, red at clip); everything between the bands is shown as its own luma in grey.
 */

export const ARRI_LIKE_BANDS = Object.freeze([
  { name: "black clip", loPct: 0, hiPct: 2.5, rgb: [148, 0, 211] },
  { name: "near black", loPct: 2.5, hiPct: 4, rgb: [0, 80, 255] },
  { name: "18 % grey", loPct: 38, hiPct: 42, rgb: [0, 200, 0] },
  { name: "one stop over grey", loPct: 52, hiPct: 56, rgb: [255, 105, 180] },
  { name: "near white", loPct: 97, hiPct: 99, rgb: [255, 230, 0] },
  { name: "white clip", loPct: 99, hiPct: 100, rgb: [255, 0, 0] },
]);

/** Peaking colours offered, name -> [r, g, b]. */
export const PEAKING_COLOURS = Object.freeze({
  red: [255, 32, 32],
  green: [32, 255, 64],
  blue: [64, 128, 255],
  yellow: [255, 240, 0],
  white: [255, 255, 255],
});

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A plain byte view of pixel data (canvas data is Uint8ClampedArray, whose stores clamp). */
function bytes(rgba) {
  return rgba instanceof Uint8Array ? rgba : new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length);
}

/** 32-bit words of pixel data: one RGBA pixel each, in memory order. */
function words(rgba) {
  return new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2);
}

/** A 32-bit pixel word of r, g, b, a in memory order (whatever the host's byte order). */
function packRgba(r, g, b, a = 255) {
  const w = new Uint32Array(1);
  new Uint8Array(w.buffer).set([r, g, b, a]);
  return w[0];
}

export function codeToPercent(code) {
  return (code / 255) * 100;
}

/** The smallest code value at or above `percent`. */
export function percentToCode(percent) {
  return Math.min(255, Math.max(0, Math.ceil((percent / 100) * 255 - 1e-9)));
}

/** Rec.709 luma (0..255) of `count` RGBA pixels into `out` (Uint8Array). */
export function lumaFromRgba(rgba, out, count = out.length) {
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0) {
    const px = words(rgba);
    for (let i = 0; i < count; i++) {
      const p = px[i];
      out[i] = (54 * (p & 255) + 183 * ((p >>> 8) & 255) + 19 * ((p >>> 16) & 255) + 128) >> 8;
    }
    return out;
  }
  const b = bytes(rgba);
  for (let i = 0, o = 0; i < count; i++, o += 4) out[i] = (54 * b[o] + 183 * b[o + 1] + 19 * b[o + 2] + 128) >> 8;
  return out;
}

/**
 * The false-colour table, 256 RGB triples: the band's colour for a code inside a band
 * (loPct <= % < hiPct; the top band includes 100 %), else the code's own grey.
 */
export function falseColourLut(bands = ARRI_LIKE_BANDS) {
  const lut = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) {
    const pct = codeToPercent(v);
    const band = bands.find((b) => pct >= b.loPct && (pct < b.hiPct || (b.hiPct >= 100 && pct <= b.hiPct)));
    lut.set(band ? band.rgb : [v, v, v], 3 * v);
  }
  return lut;
}

/** Replace each pixel of `rgba` by the false colour of its luma (alpha set opaque). */
export function applyFalseColour(rgba, luma, lut, count = luma.length) {
  const table = new Uint32Array(256);
  for (let v = 0; v < 256; v++) table[v] = packRgba(lut[3 * v], lut[3 * v + 1], lut[3 * v + 2]);
  const px = words(rgba);
  for (let i = 0; i < count; i++) px[i] = table[luma[i]];
}

/**
 * Diagonal zebra stripes (4 px dark, 4 px left as is) over pixels whose luma is at or above
 * `levelCode`; `phase` shifts the stripes (the page advances it so they crawl).
 * @returns {number} pixels at or above the level
 */
export function applyZebras(rgba, luma, width, height, levelCode, phase = 0) {
  const px = words(rgba);
  const dark = packRgba(20, 20, 20);
  let over = 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      if (luma[i] < levelCode) continue;
      over++;
      if (((x + y + phase) & 7) < 4) px[i] = dark;
    }
  }
  return over;
}

/**
 * Focus peaking: pixels where the Sobel gradient of luma (|gx| + |gy|, 0..2040) reaches
 * `threshold` are painted `rgb`. Border pixels are never marked.
 * @returns {number} pixels marked
 */
export function applyPeaking(rgba, luma, width, height, threshold, rgb) {
  const px = words(rgba);
  const mark = packRgba(rgb[0], rgb[1], rgb[2]);
  let marked = 0;
  for (let y = 1; y < height - 1; y++) {
    const up = (y - 1) * width;
    const mid = y * width;
    const dn = (y + 1) * width;
    // the 3x3 window slides along the row: a* above, b* on, c* below; *0 left, *1 centre, *2 right
    let a0 = luma[up], a1 = luma[up + 1], b0 = luma[mid], b1 = luma[mid + 1], c0 = luma[dn], c1 = luma[dn + 1];
    for (let x = 1; x < width - 1; x++) {
      const a2 = luma[up + x + 1], b2 = luma[mid + x + 1], c2 = luma[dn + x + 1];
      const gx = a2 + 2 * b2 + c2 - (a0 + 2 * b0 + c0);
      const gy = c0 + 2 * c1 + c2 - (a0 + 2 * a1 + a2);
      if ((gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy) >= threshold) {
        px[mid + x] = mark;
        marked++;
      }
      a0 = a1; a1 = a2; b0 = b1; b1 = b2; c0 = c1; c1 = c2;
    }
  }
  return marked;
}

/** The Sobel threshold for a peaking sensitivity of 0 (only the hardest edges) to 100. */
export function peakingThreshold(sensitivityPct) {
  const s = Math.min(100, Math.max(0, sensitivityPct));
  return Math.round(600 - 5.4 * s); // 600 .. 60
}

function columnMap(width, columns) {
  const map = new Uint16Array(width);
  for (let x = 0; x < width; x++) map[x] = Math.floor((x * columns) / width);
  return map;
}

/**
 * Luma waveform: counts[(255 - v) * columns + c] = pixels of image column bin c with luma v
 * (row 0 is the top of the scope, 100 %), over every `rowStep`-th image row.
 */
export function waveformCounts(luma, width, height, columns, counts = new Uint32Array(columns * 256), rowStep = 1) {
  counts.fill(0);
  const col = columnMap(width, columns);
  for (let y = 0; y < height; y += rowStep) {
    for (let x = 0, i = y * width; x < width; x++, i++) counts[(255 - luma[i]) * columns + col[x]]++;
  }
  return counts;
}

/**
 * RGB parade: three waveforms side by side (R, G, B), each `columns` wide;
 * counts[(255 - v) * 3 * columns + channel * columns + c], over every `rowStep`-th image row.
 */
export function paradeCounts(rgba, width, height, columns, counts = new Uint32Array(3 * columns * 256), rowStep = 1) {
  counts.fill(0);
  const col = columnMap(width, columns);
  const stride = 3 * columns;
  const top = 255 * stride;
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0) {
    const px = words(rgba);
    for (let y = 0; y < height; y += rowStep) {
      for (let x = 0, i = y * width; x < width; x++, i++) {
        const p = px[i];
        const c = top + col[x];
        counts[c - (p & 255) * stride]++;
        counts[c + columns - ((p >>> 8) & 255) * stride]++;
        counts[c + 2 * columns - ((p >>> 16) & 255) * stride]++;
      }
    }
    return counts;
  }
  const b = bytes(rgba);
  for (let y = 0; y < height; y += rowStep) {
    for (let x = 0, o = 4 * y * width; x < width; x++, o += 4) {
      const c = top + col[x];
      counts[c - b[o] * stride]++;
      counts[c + columns - b[o + 1] * stride]++;
      counts[c + 2 * columns - b[o + 2] * stride]++;
    }
  }
  return counts;
}

/** 256-bin histograms of luma and of each channel. */
export function histograms(rgba, luma, count = luma.length) {
  const y = new Uint32Array(256), r = new Uint32Array(256), g = new Uint32Array(256), b = new Uint32Array(256);
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0) {
    const px = words(rgba);
    for (let i = 0; i < count; i++) {
      const p = px[i];
      y[luma[i]]++;
      r[p & 255]++;
      g[(p >>> 8) & 255]++;
      b[(p >>> 16) & 255]++;
    }
    return { y, r, g, b };
  }
  const px = bytes(rgba);
  for (let i = 0, o = 0; i < count; i++, o += 4) {
    y[luma[i]]++;
    r[px[o]]++;
    g[px[o + 1]]++;
    b[px[o + 2]]++;
  }
  return { y, r, g, b };
}

/**
 * A trace's brightness for each count: 0 for none, then rising with log(count) to 255 at
 * `fullCount` (so a few pixels show and a flat field does not blind the scope).
 */
export function traceLut(fullCount) {
  const n = Math.max(2, Math.round(fullCount));
  const lut = new Uint8Array(n + 1);
  const top = Math.log1p(n);
  for (let k = 1; k <= n; k++) lut[k] = Math.max(40, Math.round((255 * Math.log1p(k)) / top));
  return lut;
}

/**
 * Draw waveform counts into `rgba` (columnsTotal x 256 pixels) in `colours`: one [r, g, b]
 * per section of `columnsTotal / colours.length` columns (one for luma, three for a parade).
 */
export function renderTraceRgba(counts, columnsTotal, rgba, colours, lut) {
  const section = columnsTotal / colours.length;
  const top = lut.length - 1;
  const tables = colours.map(([r, g, b]) => {
    const t = new Uint32Array(top + 1);
    for (let n = 0; n <= top; n++) t[n] = packRgba((r * lut[n]) >> 8, (g * lut[n]) >> 8, (b * lut[n]) >> 8);
    return t;
  });
  const px = words(rgba);
  for (let s = 0; s < colours.length; s++) {
    const table = tables[s];
    const c0 = Math.round(s * section);
    const c1 = Math.round((s + 1) * section);
    for (let row = 0; row < 256; row++) {
      const base = row * columnsTotal;
      for (let c = c0; c < c1; c++) {
        const n = counts[base + c];
        px[base + c] = table[n > top ? top : n];
      }
    }
  }
}

/**
 * Draw histograms into `rgba` (256 x height pixels): each channel's bars added in its colour,
 * bar height proportional to count / the largest count of the channels drawn (bins 1..254, so
 * a clipped black or white does not flatten the rest; clipping shows as a full bar).
 */
export function renderHistogramRgba(channels, height, rgba) {
  rgba.fill(0);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  let peak = 1;
  for (const { counts } of channels) for (let v = 1; v < 255; v++) if (counts[v] > peak) peak = counts[v];
  for (const { counts, rgb } of channels) {
    for (let v = 0; v < 256; v++) {
      const h = Math.min(height, Math.round((counts[v] / peak) * height));
      for (let row = height - h; row < height; row++) {
        const o = 4 * (row * 256 + v);
        rgba[o] = Math.min(255, rgba[o] + rgb[0]);
        rgba[o + 1] = Math.min(255, rgba[o + 1] + rgb[1]);
        rgba[o + 2] = Math.min(255, rgba[o + 2] + rgb[2]);
      }
    }
  }
}
