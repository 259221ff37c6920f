// Captions (captions.js): the captioner worker's payload (engines/captioner/live.py) as rows,
// greyed when stale, and the running shot summary.
import test from "node:test";
import assert from "node:assert/strict";
import { captionView, unwrapCaption, movementText, ShotSummary, shotSentence, STALE_AFTER_FRAMES } from "../../../../edge/preview/static/captions.js";

/** A result as CaptionerEngine.process() returns it (labels_document + model_document). */
function result({ size = "MCU", movement = "dolly_in", speed = 0.3, distance = 2.41, focal = 40, missing = {}, model = true } = {}) {
  return {
    labels: {
      focal_length_mm: focal, focal_35mm_mm: focal * 36 / 24.89, movement, movement_speed: speed, movement_speed_unit: "m/s",
      shot_size: size, subject_distance_m: distance, height_assumed: false, missing,
    },
    model: model
      ? {
        shot_size: { class: size, confidence: 0.87 },
        movement: { class: movement, confidence: 0.72 },
        focal_35mm: { value: 57.9, unit: "mm", low: 50.1, high: 66.9, relative_sigma: 0.155 },
        subject_distance: { value: 2.3, unit: "m", low: 2.0, high: 2.7, relative_sigma: 0.16 },
        depth: true, clip_end_frame: 4408,
      }
      : { missing: "no captioner model loaded" },
  };
}

test("rows: rig labels beside the model's reading and its confidence", () => {
  const v = captionView(result(), 4410, 4410);
  assert.equal(v.stale, false);
  assert.equal(v.ageFrames, 0);
  const row = Object.fromEntries(v.rows.map((r) => [r.id, r]));
  assert.equal(row.shot_size.rig.text, "MCU");
  assert.deepEqual(row.shot_size.model, { text: "MCU", confidence: 0.87 });
  assert.equal(row.focal.rig.text, "40.0 mm");
  assert.equal(row.focal.rig.note, "58 mm full-frame eq."); // 40 x 36 / 24.89 = 57.85
  assert.equal(row.focal.model.text, "58 mm");
  assert.equal(row.focal.model.spread, "±16 %");
  assert.equal(row.movement.rig.text, "push-in 0.30 m/s");
  assert.deepEqual(row.movement.model, { text: "push-in", confidence: 0.72 });
  assert.equal(row.subject.rig.text, "2.41 m");
  assert.equal(row.subject.model.range, "2.00–2.70");
});

test("a caption more than a few frames old is stale", () => {
  assert.equal(captionView(result(), 4410 - STALE_AFTER_FRAMES, 4410).stale, false);
  const v = captionView(result(), 4410 - STALE_AFTER_FRAMES - 1, 4410);
  assert.equal(v.stale, true);
  assert.equal(v.ageFrames, STALE_AFTER_FRAMES + 1);
  assert.equal(captionView(null, null, 4410).stale, true);
  assert.equal(captionView(null, null, 4410).reason, "no caption yet");
});

test("missing labels show their reason; a missing model says why", () => {
  const v = captionView(result({ missing: { subject: "no LiDAR return in this frame", shot_size: "no LiDAR return in this frame" }, model: false }), 1, 1);
  const row = Object.fromEntries(v.rows.map((r) => [r.id, r]));
  assert.equal(row.subject.rig.text, "—");
  assert.equal(row.subject.rig.note, "no LiDAR return in this frame");
  assert.equal(row.subject.rig.missing, true);
  assert.equal(row.shot_size.model, null);
  assert.equal(v.modelMissing, "no captioner model loaded");
});

test("the worker's whole envelope is read as well as its result", () => {
  const env = { v: 1, engine: "captioner", frame_index: 7, result: result() };
  assert.equal(unwrapCaption(env).labels.shot_size, "MCU");
  assert.equal(captionView(env, 7, 7).rows[0].rig.text, "MCU");
});

test("movement words and speeds", () => {
  assert.equal(movementText("pan_left", 12.34, "deg/s"), "pan left 12.3 deg/s");
  assert.equal(movementText("static", null, null), "static");
  assert.equal(movementText("zoom_in", 4, "%/s"), "zoom in 4.0 %/s");
});

test("shot summary: predominant classes, mean focal, median distance; outliers stay in", () => {
  const s = new ShotSummary(5);
  for (let i = 0; i < 10; i++) s.add(result({ distance: 2 + i * 0.1 }), i, `01:00:00:${String(i).padStart(2, "0")}`);
  s.add(result({ size: "CU" }), 10); // one outlier frame
  for (let i = 11; i < 14; i++) s.add(result({ distance: 3 }), i);
  const sum = s.summary();
  assert.equal(sum.frames, 14);
  assert.equal(sum.shotSize, "MCU");
  assert.equal(sum.shotSizeAgreement, 13 / 14);
  assert.equal(sum.movement, "dolly_in");
  assert.equal(sum.focalMeanMm, 40);
  assert.equal(sum.tcIn, "01:00:00:00");
  // distances 2.0 .. 2.9, 2.41 (the outlier frame), 3, 3, 3: median of 14 = mean of the 7th and 8th = (2.5 + 2.6) / 2
  assert.ok(Math.abs(sum.subjectMedianM - 2.55) < 1e-9);
  assert.equal(sum.sentence, "MCU on 40 mm, push-in 0.30 m/s, subject at 2.55 m");
});

test("a repeated caption counts once", () => {
  const s = new ShotSummary(5);
  for (let i = 0; i < 4; i++) s.add(result(), 100);
  assert.equal(s.summary().frames, 1);
});

test("a run of agreeing frames of another shot size starts a new shot", () => {
  const s = new ShotSummary(5);
  for (let i = 0; i < 8; i++) s.add(result(), i);
  let cut = false;
  for (let i = 8; i < 13; i++) cut = s.add(result({ size: "WS", movement: "static", speed: null, distance: 6 }), i, `tc${i}`) || cut;
  assert.ok(cut);
  const sum = s.summary();
  assert.equal(sum.frames, 5);
  assert.equal(sum.shotSize, "WS");
  assert.equal(sum.tcIn, "tc8");
  assert.equal(sum.sentence, "WS on 40 mm, static, subject at 6.00 m");
  assert.equal(s.shots, 1);
  s.reset();
  assert.equal(s.summary(), null);
});

test("sentences without a subject or focal length", () => {
  assert.equal(shotSentence({ shotSize: "none", focalMeanMm: null, movement: "pan_right", speedMean: 10, speedUnit: "deg/s", subjectMedianM: null }), "No subject, pan right 10.0 deg/s");
});
