// The page's socket (connection.js): backoff, refused tokens, reconnection after a restart.
import test from "node:test";
import assert from "node:assert/strict";
import { Connection, reconnectDelayMs, socketUrl, closeMeaning, MAX_BACKOFF_MS, REFUSED_AFTER_FAILURES } from "../../../../edge/preview/static/connection.js";

test("backoff doubles from 100 ms and stops at 2 s, less up to a quarter at random", () => {
  const top = () => 0.999999; // the longest wait
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((a) => reconnectDelayMs(a, top)), [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  assert.equal(reconnectDelayMs(10, () => 0), 1500);
  for (let a = 0; a < 20; a++) assert.ok(reconnectDelayMs(a) <= MAX_BACKOFF_MS);
});

test("socket URLs follow the page's scheme and carry the token", () => {
  assert.equal(socketUrl({ protocol: "http:", host: "127.0.0.1:8080" }, "a b&c"), "ws://127.0.0.1:8080/ws?token=a%20b%26c");
  assert.equal(socketUrl({ protocol: "https:", host: "onset.local" }, null), "wss://onset.local/ws");
});

test("what a close means", () => {
  assert.equal(closeMeaning(4401, "").kind, "token");
  assert.equal(closeMeaning(1008, "bad token").kind, "token");
  assert.equal(closeMeaning(1008, "more than 150 messages a second").kind, "policy");
  assert.equal(closeMeaning(1012, "").kind, "lost");
  assert.equal(closeMeaning(1006, "").text, "connection lost");
});

class FakeSocket {
  static OPEN = 1;
  static made = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.made.push(this);
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  accept() {
    this.readyState = 1;
    this.onopen();
  }
  drop(code, reason = "") {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

/** A Connection on fake sockets and a fake setTimeout whose waits are recorded and run by hand. */
function harness(probeAnswer = { refused: false, up: false, text: "down" }) {
  FakeSocket.made = [];
  const waits = [];
  const events = [];
  const saved = { WebSocket: globalThis.WebSocket, setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  globalThis.WebSocket = FakeSocket;
  globalThis.setTimeout = (fn, ms) => (waits.push({ fn, ms }), waits.length);
  globalThis.clearTimeout = () => {};
  const c = new Connection({
    url: () => "ws://test/ws?token=t",
    probe: async () => (events.push("probe"), probeAnswer),
    onOpen: () => events.push("open"),
    onText: (m) => events.push(["text", m]),
    onBinary: (b) => events.push(["binary", b.byteLength]),
    onStatus: () => {},
    onRefused: (text) => events.push(["refused", text]),
  });
  const restore = () => Object.assign(globalThis, saved);
  const runWait = () => waits.shift().fn();
  return { c, waits, events, restore, runWait };
}

// setImmediate is left real: it lets the probe's promise settle.
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("a server restart: the page reconnects by itself, within 2 s", async () => {
  const h = harness();
  try {
    h.c.start();
    FakeSocket.made[0].accept();
    assert.ok(h.c.send({ type: "parts", parts: ["styled"] }));
    FakeSocket.made[0].onmessage({ data: '{"type":"hello"}' });
    FakeSocket.made[0].onmessage({ data: new ArrayBuffer(3) });
    FakeSocket.made[0].drop(1012); // the server restarts
    assert.equal(h.waits.length, 1);
    assert.ok(h.waits[0].ms <= 100);
    // it is still down for a few tries: each waits longer, never over 2 s
    const delays = [];
    for (let i = 0; i < 8; i++) {
      h.runWait();
      FakeSocket.made.at(-1).drop(1006);
      await settle();
      delays.push(h.waits[0].ms);
    }
    assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1] * 0.75), String(delays));
    assert.ok(Math.max(...delays) <= MAX_BACKOFF_MS);
    assert.ok(Math.max(...delays) >= 1500);
    h.runWait();
    FakeSocket.made.at(-1).accept(); // back
    assert.equal(FakeSocket.made.length, 10);
    assert.deepEqual(h.events.filter((e) => e === "open").length, 2);
    assert.deepEqual(h.events.slice(1, 3), [["text", { type: "hello" }], ["binary", 3]]);
    FakeSocket.made.at(-1).drop(1006);
    assert.ok(h.waits.at(-1).ms <= 100, "an open socket resets the backoff");
  } finally {
    h.restore();
  }
});

test("a refused token stops the retries and says so", async () => {
  const h = harness({ refused: true, up: true, text: "the server refused this token (401): wrong token" });
  try {
    h.c.start();
    FakeSocket.made[0].drop(1006); // the handshake was answered 401: the browser only sees a close
    await settle();
    assert.deepEqual(h.events, ["probe", ["refused", "the server refused this token (401): wrong token"]]);
    assert.equal(h.waits.length, 0);
  } finally {
    h.restore();
  }
});

test("a close with a token code is a refusal without asking", () => {
  const h = harness();
  try {
    h.c.start();
    FakeSocket.made[0].accept();
    FakeSocket.made[0].drop(4401, "token refused");
    assert.equal(h.events.at(-1)[0], "refused");
    assert.equal(h.waits.length, 0);
  } finally {
    h.restore();
  }
});

test("a server that answers HTTP but keeps refusing the socket is a refusal in the end", async () => {
  const h = harness({ refused: false, up: true, text: "server up (200)" });
  try {
    h.c.start();
    for (let i = 0; i < REFUSED_AFTER_FAILURES; i++) {
      FakeSocket.made.at(-1).drop(1006);
      await settle();
      if (i < REFUSED_AFTER_FAILURES - 1) h.runWait();
    }
    assert.equal(h.events.at(-1)[0], "refused");
    assert.match(h.events.at(-1)[1], /check the token/);
    assert.equal(h.waits.length, 0);
  } finally {
    h.restore();
  }
});
