/**
 * The page's WebSocket to the preview server: connect, reconnect by itself, tell a refused
 * token from a server that is away.
 *
 * Reconnecting: after a close the page waits reconnectDelayMs(attempt): 100 ms doubling per
 * failed attempt up to MAX_BACKOFF_MS (2 s), less up to a quarter at random so that many
 * viewers of a restarted server do not all knock at once; an open socket resets the count.
 *
 * A refused token: a socket closed with one of TOKEN_CLOSE_CODES, or 1008 with a reason that
 * names the token, is a refusal. A browser tells a page nothing about a handshake the server
 * answered with an HTTP error (the socket just closes, 1006), so when a socket closes before it
 * opened the page asks GET /api/state with the same token: 401/403 is a refusal (with the
 * server's words), anything else means the server is up or away and the page tries again.
 */

export const BASE_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 2000;
export const TOKEN_CLOSE_CODES = Object.freeze([4001, 4003, 4401, 4403]);
/** Handshakes failed in a row, with the server answering HTTP, before the page stops trying. */
export const REFUSED_AFTER_FAILURES = 4;

export function reconnectDelayMs(attempt, random = Math.random) {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.75 + 0.25 * random()));
}

/** ws(s)://host/ws?token=... for a page at `loc` ({protocol, host}). */
export function socketUrl(loc, token) {
  const scheme = loc.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

/** What a close means: {kind: "token" | "policy" | "lost", text}. */
export function closeMeaning(code, reason) {
  const why = reason ? `: ${reason}` : "";
  if (TOKEN_CLOSE_CODES.includes(code) || (code === 1008 && /token|auth/i.test(reason || ""))) {
    return { kind: "token", text: `the server refused the token (close ${code}${why})` };
  }
  if (code === 1008 || code === 1009) return { kind: "policy", text: `the server closed the socket (${code}${why})` };
  if (code === 1012 || code === 1001) return { kind: "lost", text: `the server is restarting (${code})` };
  return { kind: "lost", text: code === 1006 ? "connection lost" : `connection closed (${code}${why})` };
}

/**
 * One viewer's socket with reconnection. Callbacks: onOpen(), onClose(meaning), onText(obj),
 * onBinary(ArrayBuffer), onStatus(text, level), onRefused(text); probe(): a promise of
 * {refused: bool, up: bool, text} (the GET /api/state check above).
 */
export class Connection {
  constructor({ url, probe, onOpen, onText, onBinary, onStatus, onRefused, onClose }) {
    Object.assign(this, { url, probe, onOpen, onText, onBinary, onStatus, onRefused, onClose });
    this.socket = null;
    this.attempt = 0;
    this.handshakeFailures = 0;
    this.stopped = true;
    this._timer = null;
    this.openedAt = null;
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.handshakeFailures = 0;
    this._connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this._timer);
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, "page closed the socket");
    }
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Send a JSON message; false when the socket is not open. */
  send(message) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  _connect() {
    if (this.stopped) return;
    this.onStatus(this.attempt ? "reconnecting…" : "connecting…", "wait");
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch (err) {
      this.onStatus(`cannot open the socket: ${err.message}`, "bad");
      this._retry();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.handshakeFailures = 0;
      this.openedAt = performance.now();
      this.onOpen();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return; // not JSON: nothing the page can act on
        }
        this.onText(message);
      } else {
        this.onBinary(event.data);
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const meaning = closeMeaning(event.code, event.reason);
      if (this.onClose) this.onClose(meaning);
      if (meaning.kind === "token") {
        this.stopped = true;
        this.onRefused(meaning.text);
        return;
      }
      if (opened) {
        this.onStatus(`${meaning.text}; reconnecting…`, "warn");
        this._retry();
        return;
      }
      this._afterFailedHandshake(meaning);
    };
  }

  async _afterFailedHandshake(meaning) {
    let verdict = { refused: false, up: false, text: meaning.text };
    try {
      verdict = await this.probe();
    } catch {
      // the probe itself failed: the server is away
    }
    if (this.stopped) return;
    if (verdict.refused) {
      this.stopped = true;
      this.onRefused(verdict.text);
      return;
    }
    this.handshakeFailures = verdict.up ? this.handshakeFailures + 1 : 0;
    if (this.handshakeFailures >= REFUSED_AFTER_FAILURES) {
      this.stopped = true;
      this.onRefused("the server answers but refused the live stream: check the token");
      return;
    }
    this.onStatus(verdict.up ? "server up, live stream refused; retrying…" : "server not reachable; retrying…", "bad");
    this._retry();
  }

  _retry() {
    if (this.stopped) return;
    const delay = reconnectDelayMs(this.attempt++);
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), delay);
  }
}
