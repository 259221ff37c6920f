"""The live page in a real browser, against the running demo: Debian's chromium, driven by
Playwright, opens the page `make demo` prints (the node on the simulated stage, both engines, the
preview server) and checks what a camera department relies on: frames arrive and change, the
timecode on the page is the frame's, choosing a look changes the image, Roll/Cut make a take that
the takes page lists, a wrong or missing token is refused, and the page reconnects by itself when
the server restarts. The node's Foxglove server streams the same live stage to a protocol client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import time

import pytest

from tests.harness.demo import RunningDemo, chromium_path, launch_chromium

pytestmark = [pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a test dependency (pip install -e .[test])")
if chromium_path() is None:
    pytest.fail("no chromium: `make setup` installs Debian's chromium package", pytrace=False)

#: ms the page may take to draw its first frames: the node syncs, the workers load their models.
FIRST_FRAMES_MS = 150_000
STEP_MS = 30_000

# The mean colour of the drawn picture, and a fingerprint of its pixels (which change as the
# stage moves and the grain runs). The canvas is read as the page drew it.
_PICTURE = """() => {
  const c = document.getElementById('image');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let r = 0, g = 0, b = 0, h = 0;
  for (let i = 0; i < d.length; i += 4) { r += d[i]; g += d[i + 1]; b += d[i + 2]; h = (h * 31 + d[i + 1]) >>> 0; }
  const n = d.length / 4;
  return {r: r / n, g: g / n, b: b / n, hash: h, frame: window.onsetPreview.lastFrame};
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    running = RunningDemo(tmp_path_factory.mktemp("demo"), duration_s=600)
    try:
        running.page_url()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = launch_chromium(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(demo, browser):
    tab = browser.new_page(viewport={"width": 1280, "height": 800})
    tab.goto(demo.page_url())
    try:
        tab.wait_for_function("() => window.onsetPreview && window.onsetPreview.framesDrawn >= 10",
                              timeout=FIRST_FRAMES_MS)
    except playwright_api.TimeoutError:
        pytest.fail(f"no frames drawn in {FIRST_FRAMES_MS / 1000:.0f} s; page status "
                    f"{tab.evaluate('() => window.onsetPreview && window.onsetPreview.status')!r}; "
                    f"demo output:\n{demo.output[-4000:]}")
    yield tab
    tab.close()


def _frames_drawn(tab) -> int:
    return int(tab.evaluate("() => window.onsetPreview.framesDrawn"))


def test_frames_arrive_and_change(page):
    first = page.evaluate(_PICTURE)
    drawn = _frames_drawn(page)
    page.wait_for_function(f"() => window.onsetPreview.framesDrawn >= {drawn + 24}", timeout=STEP_MS)
    later = page.evaluate(_PICTURE)
    assert later["frame"]["frame_index"] > first["frame"]["frame_index"]
    assert later["frame"]["seq"] > first["frame"]["seq"]
    assert later["hash"] != first["hash"], "the picture did not change over 24 frames"
    assert 5.0 < later["g"] < 250.0, f"the picture is blank: mean green {later['g']:.1f}"


def test_the_timecode_on_the_page_is_the_drawn_frame_s(page):
    page.wait_for_function("() => window.onsetPreview.lastFrame.timecode", timeout=STEP_MS)
    for _ in range(5):
        shown, frame = page.evaluate(
            "() => [document.getElementById('timecode').textContent, window.onsetPreview.lastFrame]")
        assert frame["timecode"] and frame["timecode"] in shown, (shown, frame)
        page.wait_for_timeout(200)


def _switch(page, look: str) -> dict:
    page.select_option("#look-select", look)
    page.wait_for_function(f"() => window.onsetPreview.lastFrame.look === {look!r}", timeout=STEP_MS)
    drawn = _frames_drawn(page)
    page.wait_for_function(f"() => window.onsetPreview.framesDrawn >= {drawn + 3}", timeout=STEP_MS)
    return page.evaluate(_PICTURE)


def test_choosing_a_look_changes_the_image(page):
    page.wait_for_function("() => document.querySelectorAll('#look-select option').length >= 7", timeout=STEP_MS)
    offered = page.eval_on_selector_all("#look-select option", "options => options.map(o => o.value)")
    assert {"off", "35mm", "16mm", "super8", "push1", "push2", "bleach-bypass"} <= set(offered), offered
    off = _switch(page, "off")
    bleach = _switch(page, "bleach-bypass")
    # Bleach bypass keeps the silver: the picture loses colour. The mean's spread over R, G, B
    # (a crude saturation) falls, and the picture is not the same.
    def spread(p):
        return max(p["r"], p["g"], p["b"]) - min(p["r"], p["g"], p["b"])

    assert bleach["frame"]["look"] == "bleach-bypass" and off["frame"]["look"] == "off"
    assert abs(bleach["g"] - off["g"]) > 1.0 or spread(bleach) < spread(off) - 1.0, (off, bleach)
    _switch(page, "35mm")


def test_roll_and_cut_make_a_take_the_takes_page_lists(demo, page, browser):
    page.fill("#scene", "42")
    page.fill("#shot", "B")
    page.fill("#take", "1")
    page.click("#take-start")
    page.wait_for_timeout(2500)
    page.click("#take-stop")
    page.wait_for_function("() => document.getElementById('take').value === '2'", timeout=STEP_MS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _take_status(demo, "42_B_001*") != "complete":
        time.sleep(0.2)
    assert _take_status(demo, "42_B_001*") == "complete", sorted(p.name for p in demo.takes_dir.glob("*"))
    takes = browser.new_page()
    try:
        takes.goto(f"{demo.base_url}/takes#token={demo.token}")
        takes.wait_for_function("() => document.querySelector('#takes-table') && "
                                "document.querySelector('#takes-table').textContent.includes('42')", timeout=STEP_MS)
        text = takes.inner_text("#takes-table")
        assert "42" in text and "B" in text, text
    finally:
        takes.close()


def _take_status(demo, pattern: str):
    for path in demo.takes_dir.glob(f"{pattern}/take.json"):
        try:
            return json.loads(path.read_text()).get("status")
        except (OSError, ValueError):
            return None
    return None


@pytest.mark.parametrize("fragment", ["#token=not-the-token-at-all", ""])
def test_a_wrong_or_missing_token_is_refused(demo, browser, fragment):
    tab = browser.new_page()
    try:
        tab.goto(f"{demo.base_url}/{fragment}")
        tab.wait_for_function("() => window.onsetPreview && /token/.test(window.onsetPreview.status)",
                              timeout=STEP_MS)
        assert tab.evaluate("() => window.onsetPreview.framesDrawn") == 0
        assert tab.is_visible("#token-error") or "token" in tab.inner_text("#status")
    finally:
        tab.close()


def test_the_page_reconnects_by_itself_when_the_server_restarts(demo, page):
    pids = demo.preview_pids()
    assert pids, f"no preview process under the node:\n{demo.output[-3000:]}"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    # The page sees the socket close; the node's supervisor starts the server again on its port.
    page.wait_for_function("() => !/^connected/.test(window.onsetPreview.status)", timeout=STEP_MS)
    drawn = _frames_drawn(page)
    page.wait_for_function(f"() => window.onsetPreview.framesDrawn >= {drawn + 10}", timeout=90_000)
    assert demo.preview_pids() and set(demo.preview_pids()).isdisjoint(pids)


def test_the_node_s_foxglove_server_streams_the_live_stage(demo, page):
    pytest.importorskip("foxglove")
    from tests.edge.foxglove.client import FoxgloveClient, decoder_for

    topics = ["/onset/camera/image/compressed", "/tf", "/onset/lidar/points", "/onset/timecode",
              "/onset/captioner/captions"]

    async def session():
        async with FoxgloveClient(demo.foxglove_url, 10.0) as client:
            await client.handshake(topics)
            await client.subscribe(topics)
            got = await client.receive_each(topics, 30.0)
            return client.channels, got

    # Playwright's sync API holds this thread's event loop: the client runs on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        channels, got = pool.submit(asyncio.run, asyncio.wait_for(session(), 60.0)).result(timeout=90)
    image = decoder_for(channels["/onset/camera/image/compressed"])(got["/onset/camera/image/compressed"].payload)
    assert image.format == "jpeg" and image.data[:2] == b"\xff\xd8"
    cloud = decoder_for(channels["/onset/lidar/points"])(got["/onset/lidar/points"].payload)
    assert len(cloud.data) >= 16 * 1000, "a sweep of the stage's VLP-16 has thousands of points"
    assert json.loads(got["/onset/timecode"].payload)["label"].startswith("01:")
