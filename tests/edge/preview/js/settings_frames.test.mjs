// The live page's settings (settings.js) and its frame decoder's one-frame slot (frames.js).
import test from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { DEFAULTS, changeForAction, changeFromInput, mergeSettings, withChanges } from "../../../../edge/preview/static/settings.js";
import { KEYMAP } from "../../../../edge/preview/static/keys.js";
import { FrameDecoder, closeFrame } from "../../../../edge/preview/static/frames.js";
import { buildFrameMessage } from "../../../../edge/preview/static/wire.js";

test("every key but help and escape changes a setting, and pressing it twice undoes it", () => {
  for (const { action } of KEYMAP) {
    const change = changeForAction(action, DEFAULTS);
    if (action === "help" || action === "escape") {
      assert.equal(change, null, action);
      continue;
    }
    assert.ok(change && Object.keys(change).every((k) => k in DEFAULTS), `${action} changes no known setting`);
    if (["wipeLeft", "wipeRight", "aspect", "parade"].includes(action)) continue;
    const twice = withChanges(withChanges(DEFAULTS, change), changeForAction(action, withChanges(DEFAULTS, change)));
    assert.deepEqual(twice, { ...DEFAULTS }, `${action} twice`);
  }
  assert.deepEqual(changeForAction("raw", { ...DEFAULTS, mode: "side" }), { mode: "raw" });
  assert.deepEqual(changeForAction("aspect", { aspect: "16:9" }), { aspect: "off" });
  assert.deepEqual(changeForAction("aspect", { aspect: "off" }), { aspect: "2.39" });
  assert.deepEqual(changeForAction("wipeLeft", { wipe: 0.02 }), { wipe: 0 });
  assert.deepEqual(changeForAction("wipeRight", { wipe: 0.5 }), { wipe: 0.55 });
  assert.deepEqual(changeForAction("parade", { parade: false, waveform: false }), { parade: true, waveform: true });
});

test("inputs: checkboxes, radios, numbers, selects; nothing for other fields", () => {
  const el = (type, setting, value, checked = false) => ({ type, value, checked, dataset: setting ? { setting } : {} });
  assert.deepEqual(changeFromInput(el("checkbox", "depth", "", true)), { depth: true });
  assert.deepEqual(changeFromInput(el("radio", "mode", "wipe", true)), { mode: "wipe" });
  assert.equal(changeFromInput(el("radio", "mode", "raw", false)), null);
  assert.deepEqual(changeFromInput(el("number", "nearM", "1.5")), { nearM: 1.5 });
  assert.equal(changeFromInput(el("number", "nearM", "")), null); // being typed
  assert.equal(changeFromInput(el("number", "nearM", "abc")), null);
  assert.deepEqual(changeFromInput(el("select-one", "units", "ft")), { units: "ft" });
  assert.equal(changeFromInput(el("text", null, "12")), null); // the scene field
  assert.equal(changeFromInput(el("text", "nope", "1")), null);
});

test("saved settings: unknown keys and wrong types are dropped; the depth range stays ordered", () => {
  const s = mergeSettings({ depth: true, nearM: "x", bogus: 1, cocRule: "nope", mode: "side" });
  assert.equal(s.depth, true);
  assert.equal(s.mode, "side");
  assert.equal(s.nearM, DEFAULTS.nearM);
  assert.equal(s.cocRule, DEFAULTS.cocRule);
  assert.ok(!("bogus" in s));
  assert.equal(mergeSettings({ nearM: 20, farM: 5 }).farM, DEFAULTS.farM);
  assert.equal(withChanges(DEFAULTS, { nearM: 15 }).farM, 15.5);
  assert.equal(mergeSettings(null).mode, "styled");
});

test("the entrance-pupil-to-sensor offset: 0 mm unless set, a number of millimetres 0 to 1000", () => {
  assert.equal(DEFAULTS.pupilToSensorMm, 0);
  assert.equal(mergeSettings({ pupilToSensorMm: 45 }).pupilToSensorMm, 45);
  assert.equal(mergeSettings({ pupilToSensorMm: "45" }).pupilToSensorMm, 0);
  assert.equal(mergeSettings({ pupilToSensorMm: -20 }).pupilToSensorMm, 0);
  assert.equal(mergeSettings({ pupilToSensorMm: 5000 }).pupilToSensorMm, 1000);
  const el = { type: "number", value: "62.5", checked: false, dataset: { setting: "pupilToSensorMm" } };
  assert.deepEqual(changeFromInput(el), { pupilToSensorMm: 62.5 });
  assert.equal(withChanges(DEFAULTS, { pupilToSensorMm: -3 }).pupilToSensorMm, 0);
  assert.equal(withChanges(DEFAULTS, { pupilToSensorMm: 80 }).pupilToSensorMm, 80);
});

/** createImageBitmap stand-in: a "bitmap" per blob, after a tick; a blob of "bad" bytes fails. */
function fakeBitmaps() {
  const made = [];
  globalThis.createImageBitmap = async (blob) => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    await new Promise((r) => setImmediate(r));
    if (bytes[0] === 0xee) throw new Error("bad JPEG");
    const bmp = { width: 4, height: 2, tag: bytes[0], closed: false, close() { this.closed = true; } };
    made.push(bmp);
    return bmp;
  };
  return made;
}

const message = (seq, parts) => buildFrameMessage({ seq, frame_index: seq }, parts);
const jpeg = (tag) => ({ kind: "styled", mime: "image/jpeg", bytes: Uint8Array.of(tag, 1, 2) });

test("one decode at a time; the newest waiting message wins; the ones passed over are counted", async () => {
  const made = fakeBitmaps();
  const frames = [];
  let done;
  const all = new Promise((r) => (done = r));
  const d = new FrameDecoder((f) => {
    frames.push(f);
    if (f.header.seq === 5) done();
  });
  for (let seq = 1; seq <= 5; seq++) d.offer(message(seq, [jpeg(seq)]));
  await all;
  // 1 was decoding while 2, 3, 4 and 5 came: each replaced the one waiting before it
  assert.deepEqual(frames.map((f) => f.header.seq), [1, 5]);
  assert.equal(d.skipped, 3);
  assert.equal(frames[1].bitmaps.styled.tag, 5);
  assert.ok(frames[0].decodeMs >= 0);
  closeFrame(frames[0]);
  assert.ok(made[0].closed);
});

/** Until the decoder has finished what it was offered (its decodes are promises, not timers). */
async function idle(decoder) {
  for (let turns = 0; decoder.busy || decoder.slot !== null; turns++) {
    assert.ok(turns < 100000, "the decoder never finished");
    await new Promise((r) => setImmediate(r));
  }
}

test("a broken image drops the frame and closes what was decoded; a broken depth part keeps the picture", async () => {
  const made = fakeBitmaps();
  const frames = [];
  const errors = [];
  const d = new FrameDecoder((f) => frames.push(f), (e) => errors.push(e));
  const raw = { kind: "raw", mime: "image/jpeg", bytes: Uint8Array.of(0xee) };
  d.offer(message(1, [jpeg(7), raw]));
  await idle(d);
  assert.equal(frames.length, 0);
  assert.equal(d.failed, 1);
  assert.match(errors[0], /frame 1: an image part does not decode \(bad JPEG\)/);
  assert.ok(made[0].closed, "the styled bitmap of the dropped frame is closed");
  const depthMeta = { width: 2, height: 1, unit: "mm", encoding: "uint16le+zlib" };
  d.offer(message(2, [jpeg(8), { kind: "depth", mime: "application/x-onset-depth", bytes: Uint8Array.of(1, 2, 3), meta: depthMeta }]));
  await idle(d);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].depth, null);
  assert.equal(d.depthErrors, 1);
  const good = new Uint8Array(deflateSync(Buffer.from([0xb8, 0x0b, 0, 0]))); // 3000 mm, then no return
  d.offer(message(3, [jpeg(9), { kind: "depth", mime: "application/x-onset-depth", bytes: good, meta: depthMeta }]));
  await idle(d);
  assert.deepEqual([...frames[1].depth.mm], [3000, 0]);
  d.offer(Uint8Array.of(1, 2, 3)); // not a frame message
  await idle(d);
  assert.equal(d.failed, 2);
});
