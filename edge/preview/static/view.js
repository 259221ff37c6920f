/**
 * The picture: composes one frame on the #image canvas (styled, raw, side by side or a split
 * wipe; monitor tools; depth and depth-of-field overlays) and draws guides, legends and the
 * distance reticle on the overlay canvas above it, at the screen's own resolution.
 *
 * The #image canvas has the frame's pixels (640x360 at the preview size; twice as wide side by
 * side), so the monitor tools read and write exactly the pixels the server sent. Layouts are
 * "views" (a picture-sized rectangle of the canvas) made of "layers" (a source image shown over
 * a span of the view's columns): one view of one layer for styled or raw; two views side by
 * side; one view of two layers for the wipe.
 */

import { applyFalseColour, applyPeaking, applyZebras, falseColourLut, histograms, lumaFromRgba, paradeCounts, peakingThreshold, percentToCode, renderHistogramRgba, renderTraceRgba, traceLut, waveformCounts, PEAKING_COLOURS } from "./monitor.js";
import { medianDepthMm, paintInsideRgba, paintRangeRgba, rangeScaleLut, ringSearchHalfHeightPx } from "./depth.js";
import { focusScaleMm, lidarDepthLimitsMm } from "./dof.js";
import { paintOverlay, DOF_TINT, READOUT_RADIUS_PX } from "./overlay.js";

const FALSE_COLOUR_LUT = falseColourLut();
const RANGE_LUT = rangeScaleLut();
const WAVEFORM_COLUMNS = 320;
const PARADE_COLUMNS = 160;
const HISTOGRAM_HEIGHT = 100;
/**
 * The waveform reads every other image row: a column bin of a 640x360 picture still has 360
 * samples for a trace 256 levels tall, and the scopes cost half as much.
 */
const SCOPE_ROW_STEP = 2;

function context(canvas, readback = false) {
  return canvas.getContext("2d", readback ? { willReadFrequently: true } : { alpha: true });
}

/**
 * The parts the page must ask the server for (docs/preview.md, `parts`): `styled` unless only
 * the raw image is shown and read, `raw` while a view shows it or the scopes read it, `depth`
 * while the depth overlay or the focus tool is on.
 */
export function neededParts(s) {
  const parts = [];
  const scopes = s.waveform || s.histogram;
  if (s.mode !== "raw" || (scopes && s.scopeSource === "styled")) parts.push("styled");
  if (s.mode !== "styled" || (scopes && s.scopeSource === "raw")) parts.push("raw");
  if (s.depth || s.focus) parts.push("depth");
  return parts;
}

/** The views and layers of a mode for pictures `w` wide (module docstring). */
export function layoutViews(mode, w, h, wipe, has) {
  const raw = has.raw ? "raw" : null;
  const styled = has.styled ? "styled" : raw;
  const whole = (src) => ({ x: 0, w, h, layers: [{ src, x0: 0, x1: w }], label: null });
  if (mode === "raw") return { width: w, views: [{ ...whole(raw || styled), label: raw ? "RAW" : "RAW (not in the stream yet)" }] };
  if (mode === "side") {
    return {
      width: 2 * w,
      views: [
        { ...whole(styled), label: has.styled ? "STYLED" : "STYLED (not in the stream)" },
        { x: w, w, h, layers: [{ src: raw, x0: 0, x1: w }], label: raw ? "RAW" : "RAW (not in the stream yet)" },
      ],
    };
  }
  if (mode === "wipe") {
    const split = Math.round(Math.min(1, Math.max(0, wipe)) * w);
    return { width: w, views: [{ x: 0, w, h, layers: [{ src: styled, x0: 0, x1: split }, { src: raw || styled, x0: split, x1: w }], label: null, wipeX: split }] };
  }
  return { width: w, views: [{ ...whole(styled), label: has.styled ? null : "RAW (no styled image in the stream)" }] };
}

export class Viewer {
  constructor({ canvas, overlay, stage, waveform, histogram, settings }) {
    Object.assign(this, { canvas, overlay, stage, waveform, histogram, settings });
    this.ctx = context(canvas);
    this.octx = context(overlay);
    this.scratch = document.createElement("canvas");
    this.sctx = context(this.scratch, true);
    this.depthCanvas = document.createElement("canvas");
    this.dctx = context(this.depthCanvas, true);
    this.dofCanvas = document.createElement("canvas");
    this.fctx = context(this.dofCanvas, true);
    this.frame = null;
    this.layout = null;
    this.cursor = null; // {view, u, v} of the pointer, u and v 0..1 of the picture
    this.pin = null;
    this.dof = null; // the current depth-of-field figures (dof.js dofFromHeader)
    this.zebraPhase = 0;
    this.toolsMs = 0;
    this._luma = null;
    this._depthKey = null;
    this._dofKey = null;
    this._zbuf = null;
  }

  setFrame(frame) {
    this.frame = frame;
    this.zebraPhase = (this.zebraPhase + 1) & 7;
  }

  get pictureSize() {
    const f = this.frame;
    if (!f) return null;
    const bmp = f.bitmaps.styled || f.bitmaps.raw;
    return bmp ? { w: bmp.width, h: bmp.height } : { w: f.header.width || 640, h: f.header.height || 360 };
  }

  /** Size the canvases to the space the stage has (CSS pixels), keeping the picture's aspect. */
  fit(maxWidth, maxHeight) {
    const cw = this.canvas.width || 640;
    const ch = this.canvas.height || 360;
    const scale = Math.max(0.1, Math.min(maxWidth / cw, maxHeight / ch));
    const w = Math.floor(cw * scale);
    const h = Math.floor(ch * scale);
    for (const c of [this.canvas, this.overlay]) {
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const dpr = window.devicePixelRatio || 1;
    const ow = Math.max(1, Math.round(w * dpr));
    const oh = Math.max(1, Math.round(h * dpr));
    if (this.overlay.width !== ow || this.overlay.height !== oh) {
      this.overlay.width = ow;
      this.overlay.height = oh;
    }
  }

  /** Compose the current frame; returns the ms spent in monitor tools. */
  draw() {
    const f = this.frame;
    const size = this.pictureSize;
    if (!f || !size) return 0;
    const s = this.settings;
    const { w, h } = size;
    const has = { styled: !!f.bitmaps.styled, raw: !!f.bitmaps.raw };
    const layout = layoutViews(s.mode, w, h, s.wipe, has);
    this.layout = layout;
    let resized = false;
    if (this.canvas.width !== layout.width || this.canvas.height !== h) {
      this.canvas.width = layout.width;
      this.canvas.height = h;
      resized = true;
    }
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, layout.width, h);

    const t0 = performance.now();
    const imageTools = s.falseColour || s.zebras || s.peaking;
    const scopes = s.waveform || s.histogram;
    // Each source's pixels are read once; the scopes read them first, then the image tools
    // change them in place (no copy), and the changed pixels are what the layers show.
    const pixels = new Map();
    const read = (src) => {
      if (!pixels.has(src)) {
        if (this.scratch.width !== w || this.scratch.height !== h) [this.scratch.width, this.scratch.height] = [w, h];
        this.sctx.drawImage(f.bitmaps[src], 0, 0, w, h);
        pixels.set(src, this.sctx.getImageData(0, 0, w, h));
      }
      return pixels.get(src);
    };
    const lumaOf = new Map();
    const luma = (src) => {
      if (!lumaOf.has(src)) {
        const buffer = lumaOf.size === 0 ? this._lumaBuffer(w * h) : new Uint8Array(w * h);
        lumaOf.set(src, lumaFromRgba(read(src).data, buffer, w * h));
      }
      return lumaOf.get(src);
    };
    if (scopes) this._scopes(read, luma, w, h, has);
    const tooled = new Set();
    const toolImage = (src) => {
      const img = read(src);
      if (!tooled.has(src)) {
        const y = luma(src);
        if (s.falseColour) applyFalseColour(img.data, y, FALSE_COLOUR_LUT, w * h);
        if (s.zebras) applyZebras(img.data, y, w, h, percentToCode(s.zebraPct), this.zebraPhase);
        if (s.peaking) applyPeaking(img.data, y, w, h, peakingThreshold(s.peakingSensitivity), PEAKING_COLOURS[s.peakingColour] || PEAKING_COLOURS.red);
        tooled.add(src);
      }
      return img;
    };

    for (const view of layout.views) {
      for (const layer of view.layers) {
        if (!layer.src || layer.x1 <= layer.x0) continue;
        if (imageTools) {
          ctx.putImageData(toolImage(layer.src), view.x, 0, layer.x0, 0, layer.x1 - layer.x0, h);
        } else {
          ctx.save();
          ctx.beginPath();
          ctx.rect(view.x + layer.x0, 0, layer.x1 - layer.x0, h);
          ctx.clip();
          ctx.drawImage(f.bitmaps[layer.src], view.x, 0, w, h);
          ctx.restore();
        }
      }
    }
    this.toolsMs = pixels.size ? performance.now() - t0 : 0;

    this._depthOverlays(layout, w, h);
    if (resized) this.stage.dispatchEvent(new Event("picture-resized"));
    this.drawOverlay();
    return this.toolsMs;
  }

  _lumaBuffer(n) {
    if (!this._luma || this._luma.length !== n) this._luma = new Uint8Array(n);
    return this._luma;
  }

  _scopes(read, luma, w, h, has) {
    const s = this.settings;
    const src = s.scopeSource === "raw" && has.raw ? "raw" : has.styled ? "styled" : "raw";
    const img = read(src);
    const y = luma(src);
    if (s.waveform) {
      const parade = s.parade;
      const columns = parade ? 3 * PARADE_COLUMNS : WAVEFORM_COLUMNS;
      const counts = parade
        ? paradeCounts(img.data, w, h, PARADE_COLUMNS, undefined, SCOPE_ROW_STEP)
        : waveformCounts(y, w, h, WAVEFORM_COLUMNS, undefined, SCOPE_ROW_STEP);
      const c = this.waveform;
      if (c.width !== columns || c.height !== 256) [c.width, c.height] = [columns, 256];
      const ctx = c.getContext("2d");
      const out = ctx.createImageData(columns, 256);
      const perColumn = (w * Math.ceil(h / SCOPE_ROW_STEP)) / (parade ? PARADE_COLUMNS : WAVEFORM_COLUMNS);
      const colours = parade ? [[255, 70, 70], [70, 255, 90], [90, 140, 255]] : [[150, 255, 170]];
      renderTraceRgba(counts, columns, out.data, colours, traceLut(perColumn / 16));
      ctx.putImageData(out, 0, 0);
      ctx.strokeStyle = "rgba(255, 255, 255, 0.25)";
      ctx.fillStyle = "rgba(255, 255, 255, 0.6)";
      ctx.font = "10px system-ui, sans-serif";
      ctx.lineWidth = 1;
      for (let pct = 0; pct <= 100; pct += 10) {
        const yy = Math.round(255 - pct * 2.55) + 0.5;
        ctx.beginPath();
        ctx.moveTo(0, yy);
        ctx.lineTo(columns, yy);
        ctx.stroke();
        if (pct % 50 === 0) ctx.fillText(String(pct), 2, Math.min(250, Math.max(9, yy - 2)));
      }
      if (parade) for (const k of [1, 2]) ctx.fillRect(k * PARADE_COLUMNS, 0, 1, 256);
      c.title = `${parade ? "RGB parade" : "luma waveform"} of the ${src} image; lines every 10 %`;
    }
    if (s.histogram) {
      const hist = histograms(img.data, y, w * h);
      const c = this.histogram;
      if (c.width !== 256 || c.height !== HISTOGRAM_HEIGHT) [c.width, c.height] = [256, HISTOGRAM_HEIGHT];
      const ctx = c.getContext("2d");
      const out = ctx.createImageData(256, HISTOGRAM_HEIGHT);
      renderHistogramRgba([{ counts: hist.r, rgb: [170, 40, 40] }, { counts: hist.g, rgb: [40, 170, 40] }, { counts: hist.b, rgb: [40, 40, 170] }], HISTOGRAM_HEIGHT, out.data);
      ctx.putImageData(out, 0, 0);
      c.title = `RGB histogram of the ${src} image`;
    }
  }

  _depthOverlays(layout, w, h) {
    const s = this.settings;
    const depth = this.frame.depth;
    if (!depth || !(s.depth || (s.focus && this.dof))) return;
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = false;
    const nearMm = s.nearM * 1000;
    const farMm = s.farM * 1000;
    if (!this._zbuf || this._zbuf.length !== depth.width * depth.height) this._zbuf = new Uint16Array(depth.width * depth.height);
    // the range scale first, the depth-of-field tint over it: with both on, what is sharp shows
    if (s.depth) {
      const key = `${this.frame.header.seq}|${nearMm}|${farMm}|${s.dotRadius}`;
      if (key !== this._depthKey) {
        this._fitCanvas(this.depthCanvas, depth);
        const img = this.dctx.createImageData(depth.width, depth.height);
        paintRangeRgba(depth.mm, depth.width, depth.height, img.data, nearMm, farMm, s.dotRadius, RANGE_LUT, this._zbuf);
        this.dctx.putImageData(img, 0, 0);
        this._depthKey = key;
      }
      ctx.globalAlpha = s.depthOpacity;
      for (const v of layout.views) ctx.drawImage(this.depthCanvas, v.x, 0, w, h);
    }
    if (s.focus && this.dof) {
      // the limits are on the focus scale (from the sensor plane), the map's depths from the pupil
      const lidar = lidarDepthLimitsMm(this.dof, s.pupilToSensorMm);
      const key = `${this.frame.header.seq}|${lidar.nearMm}|${lidar.farMm}|${s.dotRadius}`;
      if (key !== this._dofKey) {
        this._fitCanvas(this.dofCanvas, depth);
        const img = this.fctx.createImageData(depth.width, depth.height);
        paintInsideRgba(depth.mm, depth.width, depth.height, img.data, lidar.nearMm, lidar.farMm, DOF_TINT, s.dotRadius, this._zbuf);
        this.fctx.putImageData(img, 0, 0);
        this._dofKey = key;
      }
      ctx.globalAlpha = 0.75;
      for (const v of layout.views) ctx.drawImage(this.dofCanvas, v.x, 0, w, h);
    }
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
  }

  _fitCanvas(canvas, depth) {
    if (canvas.width !== depth.width || canvas.height !== depth.height) [canvas.width, canvas.height] = [depth.width, depth.height];
  }

  /** The picture point under a client position: {view, u, v} or null off the picture. */
  pointAt(clientX, clientY) {
    if (!this.layout) return null;
    const r = this.canvas.getBoundingClientRect();
    if (!r.width || !r.height) return null;
    const x = ((clientX - r.left) / r.width) * this.canvas.width;
    const y = ((clientY - r.top) / r.height) * this.canvas.height;
    const view = this.layout.views.findIndex((v) => x >= v.x && x < v.x + v.w);
    if (view < 0 || y < 0 || y >= this.canvas.height) return null;
    const v = this.layout.views[view];
    return { view, u: (x - v.x) / v.w, v: y / v.h, x: x - v.x };
  }

  /** The wipe position (0..1) for a client x, or null when not wiping. */
  wipeAt(clientX) {
    const r = this.canvas.getBoundingClientRect();
    return r.width ? Math.min(1, Math.max(0, (clientX - r.left) / r.width)) : null;
  }

  /** Whether a client x is within grabbing reach of the wipe line (CSS px). */
  nearWipe(clientX, reachPx = 24) {
    const r = this.canvas.getBoundingClientRect();
    return Math.abs(clientX - (r.left + this.settings.wipe * r.width)) <= reachPx;
  }

  /**
   * The distance at a picture point, `{value, why}`: value null (why says why), or depth.js
   * medianDepthMm's reading with `mm` on the focus scale (the LiDAR's depth plus the
   * `pupilToSensorMm` setting, dof.js focusScaleMm), `lidarMm` the LiDAR's own and
   * `pupilToSensorMm` the offset added. Between the LiDAR's rows it searches as far as the
   * frame header's `camera.fy_px` puts the next ring.
   */
  distanceAt(point) {
    const depth = this.frame && this.frame.depth;
    if (!point) return { value: null, why: "point at the picture" };
    if (!depth) return { value: null, why: this.settings.depth || this.settings.focus ? "no depth in this frame" : "depth off (D or F)" };
    const header = this.frame.header || {};
    const fyPx = header.camera && header.camera.fy_px;
    // fy is of the picture; the map is the picture's size (docs/preview.md), scaled in case not
    const fyDepthPx = typeof fyPx === "number" ? (fyPx * depth.height) / (header.height || depth.height) : null;
    const found = medianDepthMm(depth.mm, depth.width, depth.height, point.u * depth.width, point.v * depth.height,
      READOUT_RADIUS_PX, ringSearchHalfHeightPx(fyDepthPx));
    if (!found) return { value: null, why: "no LiDAR return here" };
    const pupilToSensorMm = this.settings.pupilToSensorMm || 0;
    return { value: { ...found, lidarMm: found.mm, mm: focusScaleMm(found.mm, pupilToSensorMm), pupilToSensorMm }, why: null };
  }

  /** Guides, labels, legends and the reticle, at screen resolution (overlay.js). */
  drawOverlay() {
    const o = this.overlay;
    this.octx.clearRect(0, 0, o.width, o.height);
    if (!this.layout || !this.canvas.width) return;
    paintOverlay(this.octx, {
      width: o.width, height: o.height, scale: o.width / this.canvas.width, dpr: window.devicePixelRatio || 1,
      layout: this.layout, settings: this.settings, depth: this.frame && this.frame.depth, dof: this.dof,
      points: [[this.pin, "#ffb000"], [this.cursor, "#ffffff"]], distanceAt: (p) => this.distanceAt(p),
    });
  }
}
