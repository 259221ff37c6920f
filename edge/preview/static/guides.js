/**
 * Framing guides: aspect-ratio masks, rule of thirds, action and title safe areas.
 *
 * Geometry is pure (rectangles in the pixels of the picture they frame); drawGuides() puts
 * them on a 2D canvas context. A mask for an aspect wider than the picture letterboxes it
 * (bars top and bottom), narrower pillarboxes it. Safe areas are centred rectangles of the
 * picture's (or the mask's) width and height times the fraction: action safe 93 %, title safe
 * 90 % (SMPTE ST 2046-1 for 16:9; the same fractions are applied to any frame).
 */

export const ASPECTS = Object.freeze([
  { id: "off", label: "no mask", ratio: null },
  { id: "2.39", label: "2.39:1", ratio: 2.39 },
  { id: "1.85", label: "1.85:1", ratio: 1.85 },
  { id: "16:9", label: "16:9", ratio: 16 / 9 },
]);
export const ACTION_SAFE = 0.93;
export const TITLE_SAFE = 0.9;

/**
 * The picture area left by an aspect mask, and the bars that cover the rest.
 * @returns {{inner: {x, y, w, h}, bars: Array<{x, y, w, h}>}}
 */
export function aspectMask(width, height, ratio) {
  const whole = { x: 0, y: 0, w: width, h: height };
  if (!ratio || !(width > 0 && height > 0)) return { inner: whole, bars: [] };
  const frame = width / height;
  if (Math.abs(ratio - frame) < 1e-6) return { inner: whole, bars: [] };
  if (ratio > frame) {
    const h = width / ratio;
    const bar = (height - h) / 2;
    return { inner: { x: 0, y: bar, w: width, h }, bars: [{ x: 0, y: 0, w: width, h: bar }, { x: 0, y: bar + h, w: width, h: bar }] };
  }
  const w = height * ratio;
  const bar = (width - w) / 2;
  return { inner: { x: bar, y: 0, w, h: height }, bars: [{ x: 0, y: 0, w: bar, h: height }, { x: bar + w, y: 0, w: bar, h: height }] };
}

/** The centred rectangle of `fraction` of `rect`'s width and height. */
export function safeArea(rect, fraction) {
  const w = rect.w * fraction;
  const h = rect.h * fraction;
  return { x: rect.x + (rect.w - w) / 2, y: rect.y + (rect.h - h) / 2, w, h };
}

/** The two vertical and two horizontal thirds lines of `rect`: [[x0, y0, x1, y1], ...]. */
export function thirdsLines(rect) {
  const lines = [];
  for (const k of [1, 2]) {
    const x = rect.x + (rect.w * k) / 3;
    const y = rect.y + (rect.h * k) / 3;
    lines.push([x, rect.y, x, rect.y + rect.h], [rect.x, y, rect.x + rect.w, y]);
  }
  return lines;
}

/**
 * Draw the guides over a picture drawn at `pane` ({x, y, w, h}, canvas pixels) of
 * `imageWidth` x `imageHeight` pixels. options: {ratio, maskOpacity, thirds, safe}.
 */
export function drawGuides(ctx, pane, options) {
  const mask = aspectMask(pane.w, pane.h, options.ratio);
  const at = (r) => ({ x: pane.x + r.x, y: pane.y + r.y, w: r.w, h: r.h });
  const inner = at(mask.inner);
  ctx.save();
  if (mask.bars.length) {
    ctx.fillStyle = `rgba(0, 0, 0, ${options.maskOpacity ?? 0.85})`;
    for (const b of mask.bars.map(at)) ctx.fillRect(b.x, b.y, b.w, b.h);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.5)";
    ctx.lineWidth = 1;
    ctx.strokeRect(inner.x + 0.5, inner.y + 0.5, inner.w - 1, inner.h - 1);
  }
  if (options.thirds) {
    ctx.strokeStyle = "rgba(255, 255, 255, 0.45)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const [x0, y0, x1, y1] of thirdsLines(inner)) {
      ctx.moveTo(Math.round(x0) + 0.5, Math.round(y0) + 0.5);
      ctx.lineTo(Math.round(x1) + 0.5, Math.round(y1) + 0.5);
    }
    ctx.stroke();
  }
  if (options.safe) {
    ctx.lineWidth = 1;
    ctx.setLineDash([6, 4]);
    for (const [fraction, colour] of [[ACTION_SAFE, "rgba(120, 200, 255, 0.8)"], [TITLE_SAFE, "rgba(255, 200, 120, 0.8)"]]) {
      const r = safeArea(inner, fraction);
      ctx.strokeStyle = colour;
      ctx.strokeRect(Math.round(r.x) + 0.5, Math.round(r.y) + 0.5, Math.round(r.w), Math.round(r.h));
    }
  }
  ctx.restore();
}
