"""LTC from a sound device: a private PulseAudio server with a null sink, LTC played into it by
``pacat`` (PulseAudio's own client), read back by the driver through ``pulsesrc`` from the sink's
monitor. Skips, saying why, where PulseAudio or GStreamer's pulse plugin is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List

import numpy as np
import pytest

from config.models import TimecodeConfig, TimecodeInputConfig
from sensors.timecode import TimecodeDriver, TimecodeInputError, add_frames, ltc_audio_for_frames, parse_timecode
from sensors.vocabulary import NS_PER_S, FrameRate, TimecodeSample
from tests.polling import wait_for


def _gst_has(element: str) -> bool:
    try:
        from sensors.camera.gst import element_available

        return element_available(element)
    except Exception:  # noqa: BLE001 - no GStreamer at all
        return False


@pytest.fixture
def pulse_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private PulseAudio server (its own socket under tmp_path) with a null sink ``ltc_bus``."""
    for tool in ("pulseaudio", "pacat"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (Debian: pulseaudio pulseaudio-utils gstreamer1.0-pulseaudio)")
    if not _gst_has("pulsesrc"):
        pytest.skip("GStreamer pulsesrc not available (Debian: gstreamer1.0-pulseaudio)")
    socket_path = tmp_path / "native"
    env = dict(os.environ, PULSE_RUNTIME_PATH=str(tmp_path), PULSE_STATE_PATH=str(tmp_path), HOME=str(tmp_path))
    server = subprocess.Popen(
        [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=20", "--disable-shm=yes", "--log-target=stderr",
            "--load=module-null-sink sink_name=ltc_bus rate=48000 channels=1",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket_path}",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        if not wait_for(lambda: socket_path.exists() or server.poll() is not None, timeout_s=10.0) or server.poll() is not None:
            err = server.stderr.read().decode(errors="replace")[-500:] if server.poll() is not None else ""
            pytest.skip(f"pulseaudio could not be started here: {err or 'no socket after 10 s'}")
        monkeypatch.setenv("PULSE_SERVER", f"unix:{socket_path}")
        yield f"unix:{socket_path}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def test_pulsesrc_reads_ltc_played_into_a_null_sink(pulse_server: str, tmp_path: Path) -> None:
    rate = FrameRate.FPS_29_97_DF
    start = parse_timecode("00:00:59;00", rate)
    audio = ltc_audio_for_frames(start, 75, 48000)
    raw = tmp_path / "ltc.u8"
    raw.write_bytes(np.concatenate((np.full(4800, 128, np.uint8), audio, np.full(4800, 128, np.uint8))).tobytes())
    config = TimecodeConfig(rate="29.97DF", input=TimecodeInputConfig(kind="pulse", device="ltc_bus.monitor"))
    got: List[TimecodeSample] = []
    with TimecodeDriver(config, on_sample=got.append) as driver:
        player = subprocess.Popen(
            ["pacat", "--playback", "--raw", "--format=u8", "--rate=48000", "--channels=1", "--device=ltc_bus",
             f"--server={pulse_server}", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            assert player.wait(timeout=20) == 0, player.stderr.read()
        finally:
            if player.poll() is None:
                player.kill()
        assert wait_for(lambda: len(got) >= 70, timeout_s=5.0), (len(got), driver.stats.snapshot())
        assert driver.input.error is None
    labels = [s.timecode for s in got]
    k0 = next(k for k in range(75) if add_frames(start, k) == labels[0])
    assert labels == [add_frames(start, k0 + k) for k in range(len(labels))]
    assert "00:01:00;02" in {str(t) for t in labels} and not any(s.flags for s in got)
    # Host stamps follow the device's clock: one LTC frame apart, whatever the buffer sizes.
    steps = np.diff([s.stamp.host_ns for s in got]) / (NS_PER_S * 1001 / 30000)
    assert np.all(np.abs(steps - 1.0) < 0.01), steps[np.abs(steps - 1.0) >= 0.01]


def test_a_missing_device_is_a_clear_error(pulse_server: str) -> None:
    config = TimecodeConfig(input=TimecodeInputConfig(kind="pulse", device="no_such_sink.monitor"))
    with pytest.raises(TimecodeInputError, match="no_such_sink"):
        TimecodeDriver(config).start()


def test_alsa_input_says_what_is_missing() -> None:
    if not _gst_has("appsink"):
        pytest.skip("GStreamer (PyGObject) not available")
    config = TimecodeConfig(input=TimecodeInputConfig(kind="alsa", device="hw:77,0"))
    if _gst_has("alsasrc"):  # installed: a card that does not exist is named
        with pytest.raises(TimecodeInputError, match="hw:77,0"):
            TimecodeDriver(config).start()
    else:  # not installed (the Makefile does not install gstreamer1.0-alsa yet): the package is named
        with pytest.raises(TimecodeInputError, match="gstreamer1.0-alsa"):
            TimecodeDriver(config).start()
