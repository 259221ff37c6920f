// Clock sync (docs/preview.md "Clock"): offset from the smallest-RTT exchange of the last 16.
import test from "node:test";
import assert from "node:assert/strict";
import {
  ClockSync, exchangeFromPong, bestExchange, pingIntervalMs, CLOCK_WINDOW,
} from "../../../../edge/preview/static/clock.js";

test("one exchange: offset = server - (sent + rtt/2)", () => {
  // sent at page 1000 ms, answered at page 1010 ms (rtt 10); the server read 5000 ms (5e9 ns),
  // taken to be at page 1005: offset 5000 - 1005 = 3995 ms
  const e = exchangeFromPong({ client_ms: 1000, server_ns: 5e9 }, 1010);
  assert.equal(e.rtt_ms, 10);
  assert.equal(e.offset_ms, 3995);
});

test("pongs that cannot be an exchange are ignored", () => {
  assert.equal(exchangeFromPong({ client_ms: 1000, server_ns: 5e9 }, 999), null); // negative round trip
  assert.equal(exchangeFromPong({ client_ms: "x", server_ns: 5e9 }, 1000), null);
  assert.equal(exchangeFromPong({ client_ms: 1000 }, 1000), null);
});

test("the best exchange is the one with the smallest round trip", () => {
  const best = bestExchange([{ rtt_ms: 9, offset_ms: 1 }, { rtt_ms: 2, offset_ms: 2 }, { rtt_ms: 5, offset_ms: 3 }]);
  assert.equal(best.offset_ms, 2);
  assert.equal(bestExchange([]), null);
});

/** Play exchanges against a server whose clock runs `trueOffset` ms ahead of the page. */
function exchange(sync, sendMs, upMs, downMs, trueOffset) {
  const ping = sync.ping(sendMs);
  const serverNs = (sendMs + upMs + trueOffset) * 1e6;
  return sync.pong({ type: "pong", id: ping.id, client_ms: ping.client_ms, server_ns: serverNs }, sendMs + upMs + downMs);
}

test("an asymmetric slow exchange loses to a fast one; uncertainty is half its round trip", () => {
  const sync = new ClockSync();
  assert.equal(sync.offset_ms, null);
  assert.equal(sync.toServerNs(1), null);
  // slow and lopsided: 30 ms up, 2 ms down -> estimate 14 ms off the truth (250)
  assert.ok(exchange(sync, 1000, 30, 2, 250));
  assert.equal(sync.offset_ms, 264);
  assert.equal(sync.uncertainty_ms, 16);
  // fast and symmetric: 1 ms each way -> exact
  assert.ok(exchange(sync, 3000, 1, 1, 250));
  assert.equal(sync.offset_ms, 250);
  assert.equal(sync.uncertainty_ms, 1);
  // the truth is always within the uncertainty of the estimate
  assert.ok(Math.abs(sync.offset_ms - 250) <= sync.uncertainty_ms);
  assert.equal(sync.toServerNs(10_000), (10_000 + 250) * 1e6);
  assert.equal(sync.toPageMs((10_000 + 250) * 1e6), 10_000);
});

test("only the last 16 exchanges count", () => {
  const sync = new ClockSync();
  exchange(sync, 0, 0.5, 0.5, 100); // the best ever, then pushed out by 16 slower ones
  for (let i = 1; i <= CLOCK_WINDOW; i++) exchange(sync, i * 2000, 3, 3, 100 + i);
  assert.equal(sync.exchanges.length, CLOCK_WINDOW);
  assert.equal(sync.uncertainty_ms, 3);
  assert.equal(sync.offset_ms, 101); // the first of the equally fast ones left
});

test("a pong for no ping of ours is refused; the page's own send time is used", () => {
  const sync = new ClockSync();
  assert.equal(sync.pong({ id: 99, client_ms: 1, server_ns: 1e6 }, 2), false);
  const ping = sync.ping(1000);
  // the server echoes client_ms rounded: the round trip still starts at 1000
  assert.ok(sync.pong({ id: ping.id, client_ms: 1000.4, server_ns: 2005e6 }, 1010));
  assert.equal(sync.best.rtt_ms, 10);
  assert.equal(sync.offset_ms, 1000);
  assert.equal(sync.pong({ id: ping.id, client_ms: 1000, server_ns: 2005e6 }, 1010), false); // answered once
  sync.ping(2000);
  sync.forgetPending();
  assert.equal(sync.pong({ id: ping.id + 1, client_ms: 2000, server_ns: 1 }, 2001), false);
});

test("pings every 200 ms for the first second, then every 2 s", () => {
  assert.equal(pingIntervalMs(0), 200);
  assert.equal(pingIntervalMs(999), 200);
  assert.equal(pingIntervalMs(1000), 2000);
  assert.equal(pingIntervalMs(60_000), 2000);
});

test("a ping carries a fresh id and the page's time", () => {
  const sync = new ClockSync();
  const a = sync.ping(5);
  const b = sync.ping(6);
  assert.deepEqual(a, { type: "ping", id: 1, client_ms: 5 });
  assert.equal(b.id, 2);
});
