/**
 * What is drawn over the picture at the screen's own resolution (the #overlay canvas): framing
 * guides, view labels, the wipe handle, the legends of the false colour, the depth range and the
 * depth of field, and the distance reticle under the cursor and at the pinned point.
 *
 * paintOverlay() takes everything it draws as arguments: `scale` is overlay pixels per picture
 * canvas pixel, `dpr` the device pixel ratio (sizes are CSS pixels times dpr).
 */

import { ARRI_LIKE_BANDS } from "./monitor.js";
import { legendTicksMm, rangeColour } from "./depth.js";
import { drawGuides, ASPECTS } from "./guides.js";
import { formatDistanceMm } from "./dof.js";

/** The tint of what lies inside the depth of field. */
export const DOF_TINT = Object.freeze([64, 255, 128]);
/** Depth-map pixels around a point whose median is the distance read there (half-size; widened
 * to 3x, then to the nearest LiDAR row: depth.js medianDepthMm). */
export const READOUT_RADIUS_PX = 4;

function tag(ctx, text, x, y, dpr, colour = "#fff") {
  const w = ctx.measureText(text).width + 8 * dpr;
  ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
  ctx.fillRect(x, y, w, 18 * dpr);
  ctx.fillStyle = colour;
  ctx.fillText(text, x + 4 * dpr, y + 13 * dpr);
}

function wipeHandle(ctx, x, h, dpr) {
  ctx.fillStyle = "rgba(255, 255, 255, 0.9)";
  ctx.fillRect(x - dpr, 0, 2 * dpr, h);
  ctx.beginPath();
  ctx.arc(x, h / 2, 10 * dpr, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#111";
  ctx.fillText("⟷", x - 6 * dpr, h / 2 + 4 * dpr);
}

/** The false-colour bands as a strip above the picture's bottom edge. */
function falseColourLegend(ctx, o) {
  const { dpr } = o;
  const cell = 46 * dpr;
  const h = 16 * dpr;
  const x0 = Math.max(0, (o.width - cell * ARRI_LIKE_BANDS.length) / 2);
  const y0 = o.height - h - 60 * dpr;
  ctx.save();
  ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
  ARRI_LIKE_BANDS.forEach((band, i) => {
    const x = x0 + i * cell;
    ctx.fillStyle = `rgb(${band.rgb.join(",")})`;
    ctx.fillRect(x, y0, cell - 2 * dpr, h);
    ctx.fillStyle = band.rgb[0] + band.rgb[1] > 300 ? "#000" : "#fff";
    ctx.fillText(`${band.loPct}–${band.hiPct}`, x + 3 * dpr, y0 + 12 * dpr);
  });
  ctx.restore();
}

/** The depth range scale, near to far, with round ticks. */
function rangeLegend(ctx, o) {
  const { dpr, settings: s } = o;
  const x0 = 12 * dpr;
  const y0 = o.height - 40 * dpr;
  const width = Math.min(260 * dpr, o.width - 24 * dpr);
  const barH = 10 * dpr;
  ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
  ctx.fillRect(x0 - 6 * dpr, y0 - 18 * dpr, width + 12 * dpr, 52 * dpr);
  const grad = ctx.createLinearGradient(x0, 0, x0 + width, 0);
  for (let t = 0; t <= 1.0001; t += 0.125) grad.addColorStop(Math.min(1, t), `rgb(${rangeColour(t).join(",")})`);
  ctx.fillStyle = grad;
  ctx.fillRect(x0, y0, width, barH);
  ctx.fillStyle = "#fff";
  ctx.fillText(`LiDAR depth (${s.units === "ft" ? "ft" : "m"}), near → far`, x0, y0 - 5 * dpr);
  const nearMm = s.nearM * 1000;
  const farMm = s.farM * 1000;
  for (const t of legendTicksMm(nearMm, farMm, 5)) {
    const x = x0 + ((t - nearMm) / (farMm - nearMm)) * width;
    ctx.fillRect(Math.round(x), y0 + barH, dpr, 4 * dpr);
    const label = formatDistanceMm(t, s.units).replace(" m", "");
    ctx.fillText(label, Math.min(x0 + width - 20 * dpr, Math.max(x0, x - 8 * dpr)), y0 + barH + 16 * dpr);
  }
}

function dofLegend(ctx, o) {
  const { dpr, settings: s, dof } = o;
  const text = `in focus: ${formatDistanceMm(dof.nearMm, s.units)} – ${formatDistanceMm(dof.farMm, s.units)}`;
  const w = ctx.measureText(text).width;
  const x = o.width - w - 40 * dpr;
  const y = o.height - 30 * dpr;
  ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
  ctx.fillRect(x - 8 * dpr, y - 4 * dpr, w + 36 * dpr, 24 * dpr);
  ctx.fillStyle = `rgb(${DOF_TINT.join(",")})`;
  ctx.fillRect(x, y + 2 * dpr, 12 * dpr, 12 * dpr);
  ctx.fillStyle = "#fff";
  ctx.fillText(text, x + 18 * dpr, y + 13 * dpr);
}

/**
 * Draw the overlay. o: {width, height, scale, dpr, layout (view.js layoutViews), settings,
 * depth (the frame's, or null), dof (dof.js figures, or null), points: [[point, colour]],
 * distanceAt(point) -> {value: {mm}} | {value: null}}.
 */
export function paintOverlay(ctx, o) {
  const { scale: k, dpr, layout, settings: s } = o;
  const aspect = ASPECTS.find((a) => a.id === s.aspect) || ASPECTS[0];
  ctx.font = `${Math.round(12 * dpr)}px system-ui, sans-serif`;
  for (const v of layout.views) {
    const pane = { x: v.x * k, y: 0, w: v.w * k, h: v.h * k };
    drawGuides(ctx, pane, { ratio: aspect.ratio, thirds: s.thirds, safe: s.safe, maskOpacity: 0.8 });
    if (v.label) tag(ctx, v.label, pane.x + 8 * dpr, 8 * dpr, dpr);
    if (v.wipeX !== undefined) {
      wipeHandle(ctx, Math.round(v.wipeX * k) + 0.5, pane.h, dpr);
      tag(ctx, "STYLED", 8 * dpr, 8 * dpr, dpr);
      tag(ctx, "RAW", pane.w - 48 * dpr, 8 * dpr, dpr);
    }
  }
  if (s.falseColour) falseColourLegend(ctx, o);
  if (s.depth && o.depth) rangeLegend(ctx, o);
  if (s.focus && o.dof && o.depth) dofLegend(ctx, o);
  for (const [point, colour] of o.points) {
    const v = point && layout.views[point.view];
    if (!v) continue;
    const x = (v.x + point.u * v.w) * k;
    const y = point.v * v.h * k;
    const r = Math.max(6, READOUT_RADIUS_PX * k * (o.depth ? v.w / o.depth.width : 1));
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * dpr;
    ctx.strokeRect(x - r, y - r, 2 * r, 2 * r);
    const d = o.distanceAt(point);
    if (d.value) tag(ctx, formatDistanceMm(d.value.mm, s.units), x + r + 4 * dpr, y - 8 * dpr, dpr, colour);
  }
}
