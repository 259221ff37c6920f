/**
 * The page's clock against the server's (docs/preview.md, "Clock"), NTP-style.
 *
 * A ping carries the page's time client_ms; the pong echoes it with the server's time
 * server_ns. With rtt = now - client_ms the server's clock read server_ns at about the
 * midpoint of the exchange, so
 *
 *     offset_ms = server_ns / 1e6 - (client_ms + rtt / 2)
 *
 * and server time = page time + offset_ms. The error of one exchange is at most rtt / 2 (the
 * server read its clock somewhere inside the round trip), so the offset kept is the one of the
 * exchange with the smallest round trip among the last CLOCK_WINDOW, with uncertainty half that
 * round trip. Page times are `performance.timeOrigin + performance.now()` (ms, monotonic within
 * the page), passed in by the caller, so everything here is a pure function of its inputs.
 */

export const CLOCK_WINDOW = 16;
/** Ping period during the first second of a connection, then after it (ms). */
export const FAST_PING_MS = 200;
export const SLOW_PING_MS = 2000;
export const FAST_PHASE_MS = 1000;

/** How long to wait before the next ping, `sinceConnectMs` after the socket opened. */
export function pingIntervalMs(sinceConnectMs) {
  return sinceConnectMs < FAST_PHASE_MS ? FAST_PING_MS : SLOW_PING_MS;
}

/**
 * One exchange's offset and round trip, or null for a pong that cannot be one of ours
 * (missing fields, a round trip below zero).
 */
export function exchangeFromPong(pong, nowMs) {
  const clientMs = Number(pong && pong.client_ms);
  const serverNs = Number(pong && pong.server_ns);
  if (!Number.isFinite(clientMs) || !Number.isFinite(serverNs) || !Number.isFinite(nowMs)) return null;
  const rttMs = nowMs - clientMs;
  if (rttMs < 0) return null;
  return { rtt_ms: rttMs, offset_ms: serverNs / 1e6 - (clientMs + rttMs / 2), at_ms: nowMs };
}

/** The exchange with the smallest round trip (the earliest of equals), or null for none. */
export function bestExchange(exchanges) {
  let best = null;
  for (const e of exchanges) if (best === null || e.rtt_ms < best.rtt_ms) best = e;
  return best;
}

export class ClockSync {
  constructor(window = CLOCK_WINDOW) {
    this.window = window;
    this.exchanges = [];
    this._pending = new Map(); // ping id -> client_ms sent
    this._nextId = 1;
  }

  /** The ping message to send now. */
  ping(nowMs) {
    const id = this._nextId++;
    this._pending.set(id, nowMs);
    if (this._pending.size > 64) this._pending.delete(this._pending.keys().next().value);
    return { type: "ping", id, client_ms: nowMs };
  }

  /**
   * Take a pong; false when it answers no ping of ours. The round trip is timed from the
   * time this page kept for the ping's id, so a server that echoes client_ms rounded
   * cannot skew it.
   */
  pong(message, nowMs) {
    const sent = this._pending.get(message && message.id);
    if (sent === undefined) return false;
    this._pending.delete(message.id);
    const exchange = exchangeFromPong({ client_ms: sent, server_ns: message.server_ns }, nowMs);
    if (exchange === null) return false;
    this.exchanges.push(exchange);
    if (this.exchanges.length > this.window) this.exchanges.splice(0, this.exchanges.length - this.window);
    return true;
  }

  /** Pings sent on a socket that closed will never be answered. */
  forgetPending() {
    this._pending.clear();
  }

  get best() {
    return bestExchange(this.exchanges);
  }

  /** Server time minus page time, ms; null before the first pong. */
  get offset_ms() {
    const b = this.best;
    return b === null ? null : b.offset_ms;
  }

  /** Half the round trip of the exchange the offset comes from, ms; null before the first pong. */
  get uncertainty_ms() {
    const b = this.best;
    return b === null ? null : b.rtt_ms / 2;
  }

  /** A page time as server-clock nanoseconds (an integer), or null before the first pong. */
  toServerNs(pageMs) {
    const offset = this.offset_ms;
    return offset === null ? null : Math.round((pageMs + offset) * 1e6);
  }

  /** A server-clock time (ns) as page time, ms; null before the first pong. */
  toPageMs(serverNs) {
    const offset = this.offset_ms;
    return offset === null ? null : serverNs / 1e6 - offset;
  }
}
