// The binary frame message (docs/preview.md): layout, bounds checks, the depth part.
import test from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import {
  parseFrameMessage, buildFrameMessage, inflateDepthMm, uint16FromLittleEndian, WireError, MAX_HEADER_BYTES,
} from "../../../../edge/preview/static/wire.js";

const header = { seq: 812, frame_index: 4410, timecode: "01:00:03:18", rate: "24", width: 4, height: 2 };

/** A message written byte by byte, independently of buildFrameMessage. */
function handMade(json, ...parts) {
  const text = new TextEncoder().encode(json);
  const total = 8 + text.length + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  out.set([79, 80, 70, 49]); // "OPF1"
  out[4] = (text.length >>> 24) & 255;
  out[5] = (text.length >>> 16) & 255;
  out[6] = (text.length >>> 8) & 255;
  out[7] = text.length & 255;
  out.set(text, 8);
  let at = 8 + text.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test("parts are sliced in the header's order", () => {
  const json = JSON.stringify({ type: "frame", seq: 1, parts: [
    { kind: "styled", mime: "image/jpeg", bytes: 3 }, { kind: "raw", mime: "image/jpeg", bytes: 2 }] });
  const { header: h, parts } = parseFrameMessage(handMade(json, Uint8Array.of(1, 2, 3), Uint8Array.of(9, 8)));
  assert.equal(h.seq, 1);
  assert.deepEqual([...parts.keys()], ["styled", "raw"]);
  assert.deepEqual([...parts.get("styled").bytes], [1, 2, 3]);
  assert.deepEqual([...parts.get("raw").bytes], [9, 8]);
  assert.equal(parts.get("raw").mime, "image/jpeg");
});

test("an ArrayBuffer and a Uint8Array view into a larger buffer read the same", () => {
  const msg = buildFrameMessage(header, [{ kind: "styled", mime: "image/jpeg", bytes: Uint8Array.of(7, 7) }]);
  const padded = new Uint8Array(msg.length + 10);
  padded.set(msg, 5);
  const a = parseFrameMessage(msg.buffer.slice(0));
  const b = parseFrameMessage(padded.subarray(5, 5 + msg.length));
  assert.deepEqual(a.header, b.header);
  assert.deepEqual([...b.parts.get("styled").bytes], [7, 7]);
});

test("the header length is big-endian", () => {
  // 300 bytes of header: 0x0000012C; read little-endian it would be 0x2C010000 (far too long)
  const pad = " ".repeat(300 - JSON.stringify({ type: "frame", parts: [] }).length);
  const json = JSON.stringify({ type: "frame", parts: [] }) + pad;
  assert.equal(json.length, 300);
  const msg = handMade(json);
  assert.deepEqual([...msg.subarray(4, 8)], [0, 0, 1, 44]);
  assert.equal(parseFrameMessage(msg).parts.size, 0);
});

test("bad messages are WireErrors that say what was wrong", () => {
  const ok = JSON.stringify({ type: "frame", parts: [{ kind: "styled", mime: "image/jpeg", bytes: 2 }] });
  const cases = [
    [Uint8Array.of(79, 80, 70), /shorter than its 8-byte preamble/],
    [(() => { const m = handMade(ok, Uint8Array.of(1, 2)); m[3] = 50; return m; })(), /expected "OPF1"/],
    [(() => { const m = handMade(ok, Uint8Array.of(1, 2)); m[7] += 40; return m; })(), /claims \d+ bytes; only/],
    [handMade(ok, Uint8Array.of(1)), /part styled claims 2 bytes; only 1/],
    [handMade(ok, Uint8Array.of(1, 2, 3)), /1 bytes after its last part/],
    [handMade("{nope", Uint8Array.of()), /not UTF-8 JSON/],
    [handMade("[1]"), /must be a JSON object/],
    [handMade(JSON.stringify({ type: "state", parts: [] })), /expected "frame"/],
    [handMade(JSON.stringify({ type: "frame" })), /lacks its parts/],
    [handMade(JSON.stringify({ type: "frame", parts: [{ kind: "a", bytes: -1 }] })), /bad size/],
    [handMade(JSON.stringify({ type: "frame", parts: [{ kind: "a", bytes: 0 }, { kind: "a", bytes: 0 }] })), /appears twice/],
    [handMade(JSON.stringify({ type: "frame", parts: [{ bytes: 0 }] })), /has no kind/],
  ];
  for (const [msg, pattern] of cases) {
    assert.throws(() => parseFrameMessage(msg), (err) => err instanceof WireError && pattern.test(err.message), String(pattern));
  }
});

test("a header over the limit is refused before it is read", () => {
  const m = new Uint8Array(8);
  m.set([79, 80, 70, 49]);
  new DataView(m.buffer).setUint32(4, MAX_HEADER_BYTES + 1, false);
  assert.throws(() => parseFrameMessage(m), /over the .*limit/);
});

test("invalid UTF-8 in the header is refused", () => {
  const m = handMade("{}");
  m[8] = 0xff;
  assert.throws(() => parseFrameMessage(m), /not UTF-8 JSON/);
});

test("uint16 little-endian: low byte first", () => {
  assert.deepEqual([...uint16FromLittleEndian(Uint8Array.of(0x34, 0x12, 0xff, 0x00))], [0x1234, 255]);
  assert.throws(() => uint16FromLittleEndian(Uint8Array.of(1, 2, 3)), /odd length/);
});

test("the depth part inflates to millimetres", async () => {
  const mm = Uint16Array.of(0, 1500, 3000, 65535, 2, 0, 0, 12000);
  const le = Buffer.alloc(16);
  mm.forEach((v, i) => le.writeUInt16LE(v, 2 * i));
  const bytes = new Uint8Array(deflateSync(le));
  const msg = buildFrameMessage(header, [
    { kind: "depth", mime: "application/x-onset-depth", bytes, meta: { width: 4, height: 2, unit: "mm", encoding: "uint16le+zlib" } },
  ]);
  const { parts } = parseFrameMessage(msg);
  const depth = await inflateDepthMm(parts.get("depth"));
  assert.equal(depth.width, 4);
  assert.equal(depth.height, 2);
  assert.deepEqual([...depth.mm], [...mm]);
});

test("a depth part of the wrong size, encoding or bytes is refused", async () => {
  const le = new Uint8Array(deflateSync(Buffer.alloc(10)));
  const part = (meta, bytes = le) => ({ kind: "depth", bytes, meta });
  await assert.rejects(inflateDepthMm(part({ width: 4, height: 2 })), /inflates to 10 bytes; 4x2 uint16 is 16/);
  await assert.rejects(inflateDepthMm(part({ width: 5, height: 1, encoding: "float32" })), /is not uint16le\+zlib/);
  await assert.rejects(inflateDepthMm(part({ width: 5, height: 1, unit: "m" })), /unit "m" is not mm/);
  await assert.rejects(inflateDepthMm(part({ width: 0, height: 1 })), /positive width and height/);
  await assert.rejects(inflateDepthMm(part({ width: 5, height: 1 }, Uint8Array.of(1, 2, 3, 4))), /not zlib data/);
});
