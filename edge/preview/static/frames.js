/**
 * Frame messages into drawable frames: the header, the JPEG parts as ImageBitmaps (decoded by
 * the browser off the main thread), the depth part as millimetres.
 *
 * One decode runs at a time. A message that arrives meanwhile waits in a one-frame slot; a newer
 * one replaces it and the one replaced is counted in `skipped`: a page slower than the stream
 * skips frames, it never builds a queue (the server's latest-frame slot, docs/preview.md, on the
 * page's side). A frame whose parts cannot be read is dropped, counted in `failed`, and said once
 * to `onError`; a bitmap decoded beside a part that failed is closed, not left for the collector.
 */

import { parseFrameMessage, inflateDepthMm } from "./wire.js";

/** Give back a frame's bitmaps (their pixels are held outside the JavaScript heap). */
export function closeFrame(frame) {
  if (!frame) return;
  for (const b of Object.values(frame.bitmaps)) if (b && b.close) b.close();
}

function decodeImage(part) {
  return part ? createImageBitmap(new Blob([part.bytes], { type: part.mime || "image/jpeg" })) : Promise.resolve(null);
}

export class FrameDecoder {
  /** onFrame(frame): {header, bitmaps: {styled?, raw?}, depth: {mm, width, height} | null, decodeMs}. */
  constructor(onFrame, onError = () => {}) {
    this.onFrame = onFrame;
    this.onError = onError;
    this.busy = false;
    this.slot = null;
    this.skipped = 0;
    this.failed = 0;
    this.depthErrors = 0;
  }

  offer(data) {
    if (this.busy) {
      if (this.slot !== null) this.skipped++;
      this.slot = data;
      return;
    }
    this._decode(data);
  }

  async _decode(data) {
    this.busy = true;
    const t0 = performance.now();
    try {
      const { header, parts } = parseFrameMessage(data);
      const [styled, raw, depth] = await Promise.allSettled([
        decodeImage(parts.get("styled")),
        decodeImage(parts.get("raw")),
        parts.has("depth") ? inflateDepthMm(parts.get("depth")) : Promise.resolve(null),
      ]);
      const frame = { header, bitmaps: {}, depth: null, decodeMs: 0 };
      if (styled.status === "fulfilled" && styled.value) frame.bitmaps.styled = styled.value;
      if (raw.status === "fulfilled" && raw.value) frame.bitmaps.raw = raw.value;
      const broken = [styled, raw].find((r) => r.status === "rejected");
      if (broken) {
        closeFrame(frame);
        throw new Error(`frame ${header.seq}: an image part does not decode (${broken.reason && broken.reason.message})`);
      }
      if (depth.status === "fulfilled") frame.depth = depth.value;
      else {
        this.depthErrors++;
        this.onError(`frame ${header.seq}: ${depth.reason.message}`);
      }
      frame.decodeMs = performance.now() - t0;
      this.onFrame(frame);
    } catch (err) {
      this.failed++;
      this.onError(err.message);
    } finally {
      this.busy = false;
      if (this.slot !== null) {
        const next = this.slot;
        this.slot = null;
        this._decode(next);
      }
    }
  }
}
