/**
 * The live page's keyboard map: one table that both handles the keys and writes the help
 * overlay, so the two cannot disagree. Keys are matched on KeyboardEvent.key (what the key
 * types, whatever the keyboard layout), letters without regard to case unless `shift` says.
 * Rolling and cutting a take have no key on purpose: a stray key press must not roll a take.
 */

export const KEYMAP = Object.freeze([
  { key: "r", action: "raw", help: "Raw / styled image" },
  { key: "s", action: "side", help: "Styled and raw side by side" },
  { key: "w", action: "wipe", help: "Split wipe styled | raw (drag the line; [ and ] nudge it)" },
  { key: "[", action: "wipeLeft", help: "Move the wipe left" },
  { key: "]", action: "wipeRight", help: "Move the wipe right" },
  { key: "d", action: "depth", help: "LiDAR depth overlay" },
  { key: "f", action: "focus", help: "Focus: depth-of-field tint and distance under the cursor" },
  { key: "a", action: "aspect", help: "Aspect mask: off, 2.39, 1.85, 16:9" },
  { key: "g", action: "thirds", help: "Rule-of-thirds grid" },
  { key: "x", action: "safe", help: "Action safe 93 % / title safe 90 %" },
  { key: "c", action: "falseColour", help: "False colour" },
  { key: "v", action: "waveform", help: "Waveform" },
  { key: "v", shift: true, action: "parade", help: "Waveform: luma / RGB parade" },
  { key: "h", action: "histogram", help: "Histogram" },
  { key: "z", action: "zebras", help: "Zebras" },
  { key: "p", action: "peaking", help: "Focus peaking" },
  { key: "m", action: "scopeSource", help: "Waveform and histogram read the styled / raw image" },
  { key: "i", action: "captions", help: "Captions panel" },
  { key: "u", action: "units", help: "Distances in metres / feet" },
  { key: "k", action: "panel", help: "Hide / show the side panel" },
  { key: "Escape", action: "escape", help: "Close help, drop the pinned distance point" },
  { key: "?", action: "help", help: "This help" },
]);

/** The KEYMAP entry for a key event's {key, shiftKey}, or null. */
export function actionFor(event) {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (key === "?") return KEYMAP.find((k) => k.key === "?");
  const shifted = KEYMAP.find((k) => k.key === key && k.shift && event.shiftKey);
  if (shifted) return shifted;
  return KEYMAP.find((k) => k.key === key && !k.shift) || null;
}

/** Whether a key event belongs to a text field rather than to the page. */
export function isTyping(event) {
  const t = event.target;
  if (!t || !t.tagName) return false;
  return t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName);
}

/** Fill the help overlay's table body. */
export function renderHelp(tbody) {
  tbody.replaceChildren();
  for (const k of KEYMAP) {
    const tr = tbody.insertRow();
    const kbd = document.createElement("kbd");
    kbd.textContent = `${k.shift ? "Shift+" : ""}${k.key.length === 1 ? k.key.toUpperCase() : k.key}`;
    tr.insertCell().append(kbd);
    tr.insertCell().textContent = k.help;
  }
}
