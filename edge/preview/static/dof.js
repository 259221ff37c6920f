/**
 * Depth of field from the lens state, thin-lens model. Pure functions, no DOM; every length
 * is in millimetres unless the name says otherwise.
 *
 * With focal length f, f-number N, circle of confusion c and focus distance s:
 *
 *     hyperfocal  H    = f^2 / (N c) + f
 *     near limit  Dn   = s (H - f) / (H + s - 2 f)
 *     far limit   Df   = s (H - f) / (H - s)          (infinity when s >= H)
 *     blur disc   b(d) = f^2 / (N (s - f)) * |d - s| / d   (on the sensor; b(Dn) = b(Df) = c)
 *
 * - N: the lens reports a T-stop; it is used as the f-number. T >= f-number (T adds the
 *   lens's transmission loss, typically 0.1-0.3 stop), so the true depth of field is a
 *   little shallower than the one computed here.
 * - Distances in these formulas are taken from the lens's front principal point; cine focus
 *   marks are measured from the sensor plane. The two differ by roughly f plus part of the
 *   lens's length (centimetres): a few per cent at 2 m, less further away.
 * - LiDAR depth is not measured from the sensor plane: it is the depth along the optical axis
 *   from the camera's projection centre, the pinhole of the calibrated camera model
 *   (edge/fusion/depth.py). On a real lens that centre is the entrance pupil, which sits some
 *   centimetres in front of the sensor plane, so the LiDAR's distance reads short of the focus
 *   marks by that gap. The page's `pupilToSensorMm` setting (settings.js, per lens, default 0)
 *   is that gap: focusScaleMm adds it to a LiDAR depth before it is shown or compared with the
 *   focus distance, and lidarDepthLimitsMm takes it off the limits the tint compares LiDAR
 *   depths with.
 * - Circle of confusion: COC_RULES. The default is the format diagonal / 1500 (the sensor
 *   area in use: its width from the camera, its height from the image's aspect ratio); the
 *   fixed 0.025 mm is the value Super 35 focus charts are commonly printed with.
 */

/** Circle-of-confusion rules the page offers: id -> label and how to compute it. */
export const COC_RULES = Object.freeze({
  "diag1500": { label: "format diagonal / 1500", divisor: 1500 },
  "diag1000": { label: "format diagonal / 1000 (lenient)", divisor: 1000 },
  "s35-0.025": { label: "0.025 mm (Super 35 charts)", fixedMm: 0.025 },
  "ff-0.030": { label: "0.030 mm (full-frame charts)", fixedMm: 0.03 },
});
export const DEFAULT_COC_RULE = "diag1500";

function positive(name, value) {
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
}

/** The sensor height in use, from its width and the image's aspect ratio (pixels). */
export function sensorHeightFromImageMm(sensorWidthMm, imageWidthPx, imageHeightPx) {
  positive("sensorWidthMm", sensorWidthMm);
  positive("imageWidthPx", imageWidthPx);
  positive("imageHeightPx", imageHeightPx);
  return (sensorWidthMm * imageHeightPx) / imageWidthPx;
}

export function sensorDiagonalMm(sensorWidthMm, sensorHeightMm) {
  positive("sensorWidthMm", sensorWidthMm);
  positive("sensorHeightMm", sensorHeightMm);
  return Math.hypot(sensorWidthMm, sensorHeightMm);
}

/** The circle of confusion of rule `ruleId` (COC_RULES) for a sensor area. */
export function circleOfConfusionMm(ruleId, sensorWidthMm, sensorHeightMm) {
  const rule = COC_RULES[ruleId];
  if (!rule) throw new RangeError(`unknown circle-of-confusion rule ${JSON.stringify(ruleId)}`);
  if (rule.fixedMm !== undefined) return rule.fixedMm;
  return sensorDiagonalMm(sensorWidthMm, sensorHeightMm) / rule.divisor;
}

export function hyperfocalMm(focalLengthMm, fNumber, cocMm) {
  positive("focalLengthMm", focalLengthMm);
  positive("fNumber", fNumber);
  positive("cocMm", cocMm);
  return (focalLengthMm * focalLengthMm) / (fNumber * cocMm) + focalLengthMm;
}

/**
 * Near and far limits of acceptable sharpness (far is Infinity at or past the hyperfocal).
 * @returns {{nearMm: number, farMm: number, depthMm: number, hyperfocalMm: number}}
 */
export function dofLimitsMm(focalLengthMm, fNumber, cocMm, focusDistanceMm) {
  positive("focusDistanceMm", focusDistanceMm);
  if (focusDistanceMm <= focalLengthMm) {
    throw new RangeError(`focus distance ${focusDistanceMm} mm must exceed the focal length ${focalLengthMm} mm`);
  }
  const h = hyperfocalMm(focalLengthMm, fNumber, cocMm);
  const f = focalLengthMm;
  const s = focusDistanceMm;
  const nearMm = (s * (h - f)) / (h + s - 2 * f);
  const farMm = s >= h ? Infinity : (s * (h - f)) / (h - s);
  return { nearMm, farMm, depthMm: farMm - nearMm, hyperfocalMm: h };
}

/** Diameter on the sensor of the blur disc of a point at `objectDistanceMm`. */
export function blurDiscMm(focalLengthMm, fNumber, focusDistanceMm, objectDistanceMm) {
  positive("focalLengthMm", focalLengthMm);
  positive("fNumber", fNumber);
  positive("objectDistanceMm", objectDistanceMm);
  if (focusDistanceMm <= focalLengthMm) {
    throw new RangeError(`focus distance ${focusDistanceMm} mm must exceed the focal length ${focalLengthMm} mm`);
  }
  const f = focalLengthMm;
  return ((f * f) / (fNumber * (focusDistanceMm - f))) * (Math.abs(objectDistanceMm - focusDistanceMm) / objectDistanceMm);
}

/**
 * Everything the focus panel shows, from a frame header's `lens` and `camera` and the image
 * size; null (with `reason`) when the header lacks what the maths needs.
 */
export function dofFromHeader(lens, camera, imageWidthPx, imageHeightPx, ruleId = DEFAULT_COC_RULE) {
  const need = (obj, key) => obj && typeof obj[key] === "number" && Number.isFinite(obj[key]) && obj[key] > 0;
  if (!need(lens, "focal_length_mm")) return { reason: "no focal length in the lens state" };
  if (!need(lens, "t_stop")) return { reason: "no T-stop in the lens state" };
  if (!need(lens, "focus_distance_m")) return { reason: "no focus distance in the lens state" };
  if (!need(camera, "sensor_width_mm")) return { reason: "no sensor width for the camera" };
  const sensorHeight = sensorHeightFromImageMm(camera.sensor_width_mm, imageWidthPx, imageHeightPx);
  const coc = circleOfConfusionMm(ruleId, camera.sensor_width_mm, sensorHeight);
  const focusMm = lens.focus_distance_m * 1000;
  if (focusMm <= lens.focal_length_mm) return { reason: "focus distance inside the focal length" };
  const limits = dofLimitsMm(lens.focal_length_mm, lens.t_stop, coc, focusMm);
  return {
    focalLengthMm: lens.focal_length_mm,
    tStop: lens.t_stop,
    focusMm,
    cocMm: coc,
    ruleId,
    sensorWidthMm: camera.sensor_width_mm,
    sensorHeightMm: sensorHeight,
    ...limits,
  };
}

/**
 * A LiDAR depth (mm, from the projection centre: the entrance pupil) as a distance on the focus
 * scale (mm, from the sensor plane), the pupil lying `pupilToSensorMm` in front of the sensor.
 */
export function focusScaleMm(lidarDepthMm, pupilToSensorMm = 0) {
  return lidarDepthMm + (Number.isFinite(pupilToSensorMm) ? pupilToSensorMm : 0);
}

/**
 * The depth-of-field limits (`nearMm`, `farMm` on the focus scale, from the sensor plane) as
 * LiDAR depths (from the entrance pupil, `pupilToSensorMm` in front of the sensor): what the
 * tint compares the depth map's returns with. Infinity stays infinity.
 */
export function lidarDepthLimitsMm({ nearMm, farMm }, pupilToSensorMm = 0) {
  const off = Number.isFinite(pupilToSensorMm) ? pupilToSensorMm : 0;
  return { nearMm: nearMm - off, farMm: farMm - off };
}

/** Where `distanceMm` lies against the limits: "near" (in front), "in", "far" (behind). */
export function dofZone(distanceMm, nearMm, farMm) {
  if (distanceMm < nearMm) return "near";
  if (distanceMm > farMm) return "far";
  return "in";
}

const MM_PER_INCH = 25.4;

/**
 * A distance as a focus puller reads it: metres with two decimals under 10 m ("2.77 m"),
 * one above; feet and inches ("9' 1\"") in "ft"; "∞" for infinity; "—" for none.
 */
export function formatDistanceMm(distanceMm, unit = "m") {
  if (distanceMm === null || distanceMm === undefined || Number.isNaN(distanceMm)) return "—";
  if (distanceMm === Infinity) return "∞";
  if (unit === "ft") {
    let totalInches = Math.round(distanceMm / MM_PER_INCH);
    const feet = Math.floor(totalInches / 12);
    totalInches -= feet * 12;
    return `${feet}' ${totalInches}"`;
  }
  const m = distanceMm / 1000;
  return `${m < 10 ? m.toFixed(2) : m.toFixed(1)} m`;
}
