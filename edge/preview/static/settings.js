/**
 * The live page's view settings: what is shown and how. They live in one object the keyboard,
 * the panel's inputs and the viewer share; they are kept in localStorage, so a monitor comes back
 * the way its operator left it. Inputs that edit a setting carry `data-setting="name"`.
 */

import { COC_RULES, DEFAULT_COC_RULE } from "./dof.js";

export const DEFAULTS = Object.freeze({
  mode: "styled", wipe: 0.5,
  depth: false, depthOpacity: 0.6, nearM: 0.5, farM: 12, dotRadius: 1,
  focus: false, cocRule: DEFAULT_COC_RULE, units: "m", pupilToSensorMm: 0,
  aspect: "off", thirds: false, safe: false,
  falseColour: false, waveform: false, parade: false, histogram: false, scopeSource: "styled",
  zebras: false, zebraPct: 95, peaking: false, peakingColour: "red", peakingSensitivity: 50,
  captions: true, panel: true,
});
const STORAGE_KEY = "onset.preview.view";
/**
 * The largest entrance-pupil-to-sensor offset taken (mm): the gap between the point a lens
 * images from and its sensor plane (dof.js), centimetres on cine lenses, under a metre on any.
 */
export const PUPIL_TO_SENSOR_MAX_MM = 1000;

function clampPupilToSensorMm(mm) {
  return Number.isFinite(mm) ? Math.min(PUPIL_TO_SENSOR_MAX_MM, Math.max(0, mm)) : DEFAULTS.pupilToSensorMm;
}

/** Saved settings over the defaults; a saved value of the wrong type is left out. */
export function mergeSettings(saved) {
  const out = { ...DEFAULTS };
  if (saved && typeof saved === "object") {
    for (const [k, v] of Object.entries(saved)) if (k in DEFAULTS && typeof v === typeof DEFAULTS[k]) out[k] = v;
  }
  if (!COC_RULES[out.cocRule]) out.cocRule = DEFAULT_COC_RULE;
  if (!(out.farM > out.nearM)) [out.nearM, out.farM] = [DEFAULTS.nearM, DEFAULTS.farM];
  out.pupilToSensorMm = clampPupilToSensorMm(out.pupilToSensorMm);
  return out;
}

export function loadSettings() {
  try {
    return mergeSettings(JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}"));
  } catch {
    return mergeSettings({});
  }
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // storage refused: the settings last as long as the page
  }
}

/** The change an input event asks for ({key: value}), or null (not a setting, not a value). */
export function changeFromInput(el) {
  const key = el && el.dataset && el.dataset.setting;
  if (!key || !(key in DEFAULTS)) return null;
  if (el.type === "checkbox") return { [key]: el.checked };
  if (el.type === "radio") return el.checked ? { [key]: el.value } : null;
  if (typeof DEFAULTS[key] === "number") {
    const value = Number(el.value);
    return el.value !== "" && Number.isFinite(value) ? { [key]: value } : null;
  }
  return { [key]: el.value };
}

/** Show the settings in every input that edits one (not the one being typed in). */
export function showSettings(root, settings) {
  for (const el of root.querySelectorAll("[data-setting]")) {
    const v = settings[el.dataset.setting];
    if (el.type === "checkbox") el.checked = !!v;
    else if (el.type === "radio") el.checked = el.value === v;
    else if (root.activeElement !== el) el.value = String(v);
  }
}

const ASPECT_CYCLE = ["off", "2.39", "1.85", "16:9"];
const WIPE_STEP = 0.05;

/**
 * The settings a keyboard action (keys.js KEYMAP) changes, from the current ones; null for the
 * actions that change no setting (help, escape).
 */
export function changeForAction(action, s) {
  const flip = (key) => ({ [key]: !s[key] });
  const mode = (m) => ({ mode: s.mode === m ? "styled" : m });
  switch (action) {
    case "raw": return mode("raw");
    case "side": return mode("side");
    case "wipe": return mode("wipe");
    case "wipeLeft": return { wipe: Math.max(0, Math.round((s.wipe - WIPE_STEP) * 100) / 100) };
    case "wipeRight": return { wipe: Math.min(1, Math.round((s.wipe + WIPE_STEP) * 100) / 100) };
    case "aspect": return { aspect: ASPECT_CYCLE[(ASPECT_CYCLE.indexOf(s.aspect) + 1) % ASPECT_CYCLE.length] };
    case "parade": return { parade: !s.parade, waveform: true };
    case "scopeSource": return { scopeSource: s.scopeSource === "styled" ? "raw" : "styled" };
    case "units": return { units: s.units === "m" ? "ft" : "m" };
    case "depth": case "focus": case "thirds": case "safe": case "falseColour": case "waveform":
    case "histogram": case "zebras": case "peaking": case "captions": case "panel":
      return flip(action);
    default:
      return null;
  }
}

/**
 * Settings after `changes`, kept consistent: the far end of the depth scale beyond the near,
 * the pupil-to-sensor offset within 0..PUPIL_TO_SENSOR_MAX_MM.
 */
export function withChanges(s, changes) {
  const out = { ...s, ...changes };
  if (!(out.farM > out.nearM)) out.farM = Math.round((out.nearM + 0.5) * 10) / 10;
  out.pupilToSensorMm = clampPupilToSensorMm(out.pupilToSensorMm);
  return out;
}
