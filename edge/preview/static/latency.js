/**
 * Latency figures the page measures itself, beside the server's per-stage ones from `state`.
 *
 * Times are server-clock ms (the frame's stamps_ns, and the page's draw time mapped with the
 * clock offset, clock.js), so "exposure -> drawn" is the whole trip to the glass and carries the
 * clock's uncertainty. Percentiles are nearest-rank over the newest WINDOW frames, the rule the
 * node's status uses (edge/node/health.py).
 */

export const WINDOW = 240;

/** Round to the nearest integer, halves to the even one (as Python's round()). */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The q-quantile (0..1) of ascending `sorted`, nearest rank; null for none. */
export function nearestRank(sorted, q) {
  if (!sorted.length) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, roundHalfEven(q * sorted.length + 0.5) - 1));
  return sorted[rank];
}

export class LatencyWindow {
  constructor(size = WINDOW) {
    this.size = size;
    this.values = new Float64Array(size);
    this.count = 0;
    this.next = 0;
  }

  push(ms) {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return;
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** {p50_ms, p95_ms, p99_ms, count}, nulls before the first value. */
  percentiles() {
    const sorted = this.values.slice(0, this.count).sort();
    return { p50_ms: nearestRank(sorted, 0.5), p95_ms: nearestRank(sorted, 0.95), p99_ms: nearestRank(sorted, 0.99), count: this.count };
  }
}

/**
 * The page's own stages of one frame, ms, from its stamps_ns and the page's draw time (server
 * clock, ns): sent -> drawn (socket, decode, draw) and exposure -> drawn. Missing stamps give null.
 */
export function pageStagesMs(stampsNs, drawnNs) {
  const at = (k) => (stampsNs && typeof stampsNs[k] === "number" ? stampsNs[k] : null);
  const gap = (a, b) => (a === null || b === null ? null : (b - a) / 1e6);
  return { sent_to_drawn: gap(at("sent"), drawnNs), exposure_to_drawn: gap(at("exposure"), drawnNs) };
}
