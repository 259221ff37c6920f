/**
 * Captions on the page: the captioner worker's result for a frame (engines/captioner/live.py)
 * as rows a camera department reads, and a running shot-level summary. Pure (no DOM).
 *
 * The result is {"labels": ..., "model": ..., "closed_loop"?: ...}:
 * - labels: what the rig measured (lens, telemetry, LiDAR): shot_size, focal_length_mm,
 *   focal_35mm_mm, movement, movement_speed + movement_speed_unit, subject_distance_m,
 *   height_assumed, and `missing` {label: reason};
 * - model: what the model reads from the picture over the newest clip: shot_size and movement
 *   {class, confidence}, focal_35mm and subject_distance {value, unit, low, high,
 *   relative_sigma}, clip_end_frame; or {missing: reason}.
 * A frame header may carry the worker's whole envelope instead ({..., "result": {...}}).
 *
 * Shot summary (ShotSummary): the frames since the shot began, from the rig's labels. The shot
 * size and the movement are the most frequent classes and their "agreement" the share of the
 * shot's frames that carry them; focal length is the mean, subject distance the median. A new
 * shot begins when CUT_FRAMES frames in a row agree with each other on a shot size and movement
 * other than the shot's (fewer are outliers and stay in the shot).
 */

/** A caption this many frames older than the frame it is shown with is greyed. */
export const STALE_AFTER_FRAMES = 3;
/** Frames in a row (1 s at 24 fps) that start a new shot. */
export const CUT_FRAMES = 24;

const MOVEMENT_WORDS = {
  static: "static",
  pan_left: "pan left",
  pan_right: "pan right",
  tilt_up: "tilt up",
  tilt_down: "tilt down",
  roll: "roll",
  dolly_in: "push-in",
  dolly_out: "pull-out",
  truck_left: "truck left",
  truck_right: "truck right",
  pedestal_up: "pedestal up",
  pedestal_down: "pedestal down",
  zoom_in: "zoom in",
  zoom_out: "zoom out",
  handheld: "handheld",
  missing: "no movement label",
};

export function movementWords(movement) {
  return MOVEMENT_WORDS[movement] || String(movement || "—").replace(/_/g, " ");
}

/** "push-in 0.35 m/s"; the speed is left out when there is none. */
export function movementText(movement, speed, unit) {
  const words = movementWords(movement);
  if (typeof speed !== "number" || !Number.isFinite(speed) || !unit) return words;
  const digits = unit === "m/s" ? 2 : 1;
  return `${words} ${speed.toFixed(digits)} ${unit}`;
}

/** The captioner's payload {labels, model, ...} of a header's caption, or null. */
export function unwrapCaption(caption) {
  if (!caption || typeof caption !== "object") return null;
  if (caption.result && typeof caption.result === "object" && !caption.labels) return caption.result;
  return caption;
}

function num(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function classCell(part) {
  if (!part || typeof part !== "object" || part.class === undefined) return null;
  return { text: String(part.class), confidence: num(part.confidence) };
}

function regressionCell(part, digits, format = (v) => v.toFixed(digits)) {
  if (!part || num(part.value) === null) return null;
  const sigma = num(part.relative_sigma);
  return {
    text: `${format(part.value)} ${part.unit || ""}`.trim(),
    spread: sigma === null ? null : `±${Math.round(sigma * 100)} %`,
    range: num(part.low) !== null && num(part.high) !== null ? `${format(part.low)}–${format(part.high)}` : null,
    confidence: null,
  };
}

/**
 * The rows of the caption panel.
 * @returns {{stale: boolean, ageFrames: number|null, reason: string|null, rows: Array, modelMissing: string|null, closedLoop: object|null}}
 */
export function captionView(caption, captionFrameIndex, frameIndex, staleAfter = STALE_AFTER_FRAMES) {
  const payload = unwrapCaption(caption);
  if (payload === null) return { stale: true, ageFrames: null, reason: "no caption yet", rows: [], modelMissing: null, closedLoop: null };
  const age = num(captionFrameIndex) !== null && num(frameIndex) !== null ? frameIndex - captionFrameIndex : null;
  const labels = payload.labels || {};
  const missing = labels.missing || {};
  const model = payload.model || {};
  const modelMissing = typeof model.missing === "string" ? model.missing : null;
  const rig = (text, key, note = null) => (missing[key] ? { text: "—", note: missing[key], missing: true } : text === null ? null : { text, note });

  const size = labels.shot_size === "none" ? "no subject" : labels.shot_size ?? null;
  const focal = num(labels.focal_length_mm);
  const focal35 = num(labels.focal_35mm_mm);
  const speed = num(labels.movement_speed);
  const subject = num(labels.subject_distance_m);
  const rows = [
    {
      id: "shot_size",
      label: "Shot size",
      rig: rig(size, "shot_size", labels.height_assumed ? "subject height assumed" : null),
      model: classCell(model.shot_size),
    },
    {
      id: "focal",
      label: "Focal length",
      rig: rig(focal === null ? null : `${focal.toFixed(focal < 100 ? 1 : 0)} mm`, "focal_length",
        focal35 === null ? null : `${Math.round(focal35)} mm full-frame eq.`),
      model: regressionCell(model.focal_35mm, 0),
    },
    {
      id: "movement",
      label: "Movement",
      rig: rig(labels.movement ? movementText(labels.movement, speed, labels.movement_speed_unit) : null, "movement"),
      model: (() => {
        const cell = classCell(model.movement);
        return cell && { ...cell, text: movementWords(cell.text) };
      })(),
    },
    {
      id: "subject",
      label: "Subject",
      rig: rig(subject === null ? (labels.shot_size === "none" ? "no subject" : null) : `${subject.toFixed(2)} m`, "subject"),
      model: regressionCell(model.subject_distance, 2),
    },
  ];
  return {
    stale: age !== null && age > staleAfter,
    ageFrames: age,
    reason: null,
    rows,
    modelMissing,
    closedLoop: payload.closed_loop || null,
  };
}

function mode(counts) {
  let best = null;
  let bestN = 0;
  for (const [key, n] of counts) if (n > bestN) [best, bestN] = [key, n];
  return { value: best, count: bestN };
}

function bump(map, key, n = 1) {
  map.set(key, (map.get(key) || 0) + n);
}

function median(values) {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function newShot() {
  return { frames: 0, sizes: new Map(), moves: new Map(), speeds: new Map(), focalSum: 0, focalN: 0, distances: [], tcIn: null, tcOut: null, firstFrame: null, lastFrame: null };
}

/** The shot-level summary of the frames seen (module docstring). */
export class ShotSummary {
  constructor(cutFrames = CUT_FRAMES, maxDistances = 4096) {
    this.cutFrames = cutFrames;
    this.maxDistances = maxDistances;
    this.reset();
  }

  reset() {
    this.shot = newShot();
    this.pending = [];
    this.shots = 0;
    this._lastFrame = null;
  }

  _joint(rec) {
    return `${rec.size}|${rec.move}`;
  }

  _shotJoint() {
    return `${mode(this.shot.sizes).value}|${mode(this.shot.moves).value}`;
  }

  _take(rec) {
    const s = this.shot;
    s.frames++;
    bump(s.sizes, rec.size);
    bump(s.moves, rec.move);
    if (rec.speed !== null) {
      const sp = s.speeds.get(rec.move) || { sum: 0, n: 0, unit: rec.unit };
      sp.sum += rec.speed;
      sp.n++;
      s.speeds.set(rec.move, sp);
    }
    if (rec.focal !== null) {
      s.focalSum += rec.focal;
      s.focalN++;
    }
    if (rec.distance !== null) {
      s.distances.push(rec.distance);
      if (s.distances.length > this.maxDistances) s.distances.shift();
    }
    if (s.tcIn === null) [s.tcIn, s.firstFrame] = [rec.timecode, rec.frameIndex];
    [s.tcOut, s.lastFrame] = [rec.timecode, rec.frameIndex];
  }

  /**
   * Add one frame's caption (a frame's caption repeats while the captioner has nothing newer:
   * only a caption frame not seen before counts).
   * @returns {boolean} whether a new shot began with it
   */
  add(caption, captionFrameIndex, timecode = null) {
    const payload = unwrapCaption(caption);
    if (!payload || !payload.labels) return false;
    if (captionFrameIndex !== null && captionFrameIndex !== undefined) {
      if (captionFrameIndex === this._lastFrame) return false;
      this._lastFrame = captionFrameIndex;
    }
    const l = payload.labels;
    const rec = {
      size: l.shot_size || "missing",
      move: l.movement || "missing",
      speed: num(l.movement_speed),
      unit: l.movement_speed_unit || null,
      focal: num(l.focal_length_mm),
      distance: num(l.subject_distance_m),
      timecode,
      frameIndex: captionFrameIndex,
    };
    if (this.shot.frames === 0 || this._joint(rec) === this._shotJoint()) {
      for (const p of this.pending) this._take(p); // outliers: they stay in the shot
      this.pending = [];
      this._take(rec);
      return false;
    }
    if (this.pending.length && this._joint(this.pending[0]) !== this._joint(rec)) {
      for (const p of this.pending) this._take(p);
      this.pending = [];
    }
    this.pending.push(rec);
    if (this.pending.length < this.cutFrames) return false;
    const begun = this.pending;
    this.shot = newShot();
    this.pending = [];
    this.shots++;
    for (const p of begun) this._take(p);
    return true;
  }

  /** The current shot's summary, or null before any caption. */
  summary() {
    const s = this.shot;
    if (s.frames === 0) return null;
    const size = mode(s.sizes);
    const move = mode(s.moves);
    const sp = s.speeds.get(move.value);
    const focal = s.focalN ? s.focalSum / s.focalN : null;
    const distance = median(s.distances);
    const out = {
      frames: s.frames,
      tcIn: s.tcIn,
      tcOut: s.tcOut,
      shotSize: size.value,
      shotSizeAgreement: size.count / s.frames,
      movement: move.value,
      movementAgreement: move.count / s.frames,
      speedMean: sp ? sp.sum / sp.n : null,
      speedUnit: sp ? sp.unit : null,
      focalMeanMm: focal,
      subjectMedianM: distance,
      agreement: (size.count / s.frames) * (move.count / s.frames),
    };
    out.sentence = shotSentence(out);
    return out;
  }
}

/** "MCU on 40 mm, push-in 0.30 m/s, subject at 2.41 m". */
export function shotSentence(summary) {
  const parts = [];
  const size = summary.shotSize && summary.shotSize !== "missing" ? (summary.shotSize === "none" ? "No subject" : summary.shotSize) : "Shot";
  parts.push(summary.focalMeanMm !== null ? `${size} on ${Math.round(summary.focalMeanMm)} mm` : size);
  if (summary.movement && summary.movement !== "missing") parts.push(movementText(summary.movement, summary.speedMean, summary.speedUnit));
  if (summary.subjectMedianM !== null) parts.push(`subject at ${summary.subjectMedianM.toFixed(2)} m`);
  return parts.join(", ");
}
