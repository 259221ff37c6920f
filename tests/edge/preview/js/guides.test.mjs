// Framing guides (guides.js): masks, safe areas, thirds.
import test from "node:test";
import assert from "node:assert/strict";
import { aspectMask, safeArea, thirdsLines, ACTION_SAFE, TITLE_SAFE } from "../../../../edge/preview/static/guides.js";

const near = (a, b) => Math.abs(a - b) < 1e-9;

test("2.39 on a 16:9 picture letterboxes it", () => {
  // 640 / 2.39 = 267.78 px of picture; (360 - 267.78) / 2 = 46.11 px bars
  const m = aspectMask(640, 360, 2.39);
  assert.ok(near(m.inner.h, 640 / 2.39));
  assert.ok(near(m.inner.y, (360 - 640 / 2.39) / 2));
  assert.equal(m.bars.length, 2);
  assert.ok(near(m.bars[0].h + m.bars[1].h + m.inner.h, 360));
  assert.equal(m.inner.w, 640);
});

test("1.85 on 16:9 letterboxes a little; 16:9 on 2.39 pillarboxes", () => {
  const m = aspectMask(640, 360, 1.85);
  assert.ok(near(m.inner.h, 345.9459459459459)); // 640 / 1.85
  const p = aspectMask(956, 400, 16 / 9); // 400 x 16/9 = 711.1 px wide, 122.4 px bars each side
  assert.ok(near(p.inner.w, 400 * 16 / 9));
  assert.ok(near(p.bars[0].w, (956 - 400 * 16 / 9) / 2));
  assert.equal(p.inner.h, 400);
  assert.deepEqual(aspectMask(640, 360, 16 / 9).bars, []);
  assert.deepEqual(aspectMask(640, 360, null).bars, []);
});

test("safe areas are centred at 93 % and 90 %", () => {
  assert.equal(ACTION_SAFE, 0.93);
  assert.equal(TITLE_SAFE, 0.9);
  const a = safeArea({ x: 0, y: 0, w: 1000, h: 500 }, ACTION_SAFE);
  assert.deepEqual(a, { x: 35, y: 17.5, w: 930, h: 465 });
  const t = safeArea({ x: 10, y: 20, w: 100, h: 50 }, TITLE_SAFE);
  assert.ok(near(t.x, 15) && near(t.y, 22.5) && near(t.w, 90) && near(t.h, 45));
});

test("thirds", () => {
  const lines = thirdsLines({ x: 0, y: 0, w: 300, h: 90 });
  assert.deepEqual(lines, [[100, 0, 100, 90], [0, 30, 300, 30], [200, 0, 200, 90], [0, 60, 300, 60]]);
});
