"""Every fused frame's timecode, on the live path, against the stage's ground truth.

The simulated stage runs in its own processes (camera frames as RFC 4175 RTP video, LTC as RTP
L16 audio, LiDAR and FreeD over UDP); the edge node decodes them, labels each frame from its
timecode clock at the frame's exposure start and streams it; the test reads the stream and
compares every frame's label with the label the stage's jam-sync gives that frame. Runs cross a
drop-frame minute at 29.97 DF (00:01:00;02 follows 00:00:59;29), the midnight rollover, and run
at 48 fps, where each LTC frame (at 24) labels a pair of frames. A single wrong label fails.

Frames before the timecode clock has heard its first LTC frame go out unlabelled (flagged
``missing``); from the first labelled frame on, every frame must carry a label and every label
must be exact, whether the clock had locked yet (``ok``) or not (``unsynced``); the clock must
have locked by the end.
"""

from __future__ import annotations

import socket
import time

import pytest

from config import load_profile
from tests.e2e.support import free_port
from sensors.camera.sim import CameraSim
from sensors.vocabulary import NS_PER_S, SyncStatus

_RUN_S = 9.0




def _rig(rate: str, start: str):
    rig = load_profile()
    udp = socket.SOCK_DGRAM
    return rig.model_copy(update={
        "camera": rig.camera.model_copy(update={"fps": rate, "width_px": 192, "height_px": 108, "port": free_port(udp)}),
        "timecode": rig.timecode.model_copy(update={
            "rate": rate, "start": start,
            "input": rig.timecode.input.model_copy(update={"port": free_port(udp)})}),
        "lidars": [c.model_copy(update={"port": free_port(udp)}) for c in rig.lidars],
        "telemetry": [c.model_copy(update={"port": free_port(udp)}) for c in rig.telemetry],
    })


def _run_live(rig, until_s: float = _RUN_S, limit_s: float = 30.0, min_frames: int = 40):
    """Play the stage through the node for ``until_s`` of stage time (longer, up to ``limit_s``,
    until ``min_frames`` frames came: a loaded host renders slowly); the frames the stream
    carried, and the epoch the stage ran from."""
    from edge.node.app import EdgeNode
    from edge.stream import FusedFrameSubscriber
    from sensors.sim.run import SimulatedStage, stage_epoch_ns

    endpoint = f"tcp://127.0.0.1:{free_port(socket.SOCK_STREAM)}"
    frames = []
    with EdgeNode(rig, with_ros=False, stream_endpoint=endpoint) as node:
        with FusedFrameSubscriber(endpoint, rcv_hwm=1000, consumer="timecode-test") as sub:
            epoch = stage_epoch_ns(rig, time.time_ns())
            with SimulatedStage(rig, epoch) as stage:
                begin = time.monotonic() + (epoch - time.time_ns()) / NS_PER_S
                while time.monotonic() < begin + limit_s and (
                        time.monotonic() < begin + until_s or len(frames) < min_frames):
                    frame = sub.recv(timeout_ms=200)
                    if frame is not None:
                        frames.append((frame.frame_index, frame.timecode, frame.sync_of("timecode").status))
                errors = stage.errors()
        assert node.sync is not None
    assert not errors, errors
    return frames, epoch


@pytest.mark.slow
@pytest.mark.parametrize("rate, start, crossing", [
    ("29.97DF", "00:00:55;00", ("00:00:59;29", "00:01:00;02")),  # a drop-frame minute
    ("29.97DF", "23:59:55;00", ("23:59:59;29", "00:00:00;00")),  # midnight
    ("48", "10:59:55:00", ("10:59:59:47", "11:00:00:00")),  # LTC at half rate, frame pairs
])
def test_every_frame_on_the_stream_carries_the_stages_label(rate, start, crossing):
    from sensors.sim.processes import ltc_sim

    rig = _rig(rate, start)
    frames, epoch = _run_live(rig)
    truth = CameraSim(rig.camera, None, ltc_sim(rig, epoch), epoch, seed=rig.stage.seed + 401)
    first = next((i for i, (_, tc, _) in enumerate(frames) if tc is not None), None)
    assert first is not None, f"no frame was labelled in {len(frames)} frames"
    assert all(status is SyncStatus.MISSING for _, _, status in frames[:first])
    checked = frames[first:]
    assert len(checked) >= 20, f"only {len(checked)} frames after the timecode clock started"
    wrong = []
    for index, label, status in checked:
        expected = truth.truth(truth.k_of_frame_index(index)).timecode
        if label != expected:
            wrong.append((index, str(label), status.value, str(expected)))
    assert not wrong, f"{len(wrong)} of {len(checked)} frames wrong, first: {wrong[:5]}"
    assert checked[-1][2] is SyncStatus.OK, "the timecode clock never locked"
    ks = [truth.k_of_frame_index(index) for index, _, _ in checked]
    before, after = crossing
    k_after = next((k for k in range(min(ks), max(ks) + 1) if str(truth.truth(k).timecode) == after), None)
    assert k_after is not None and min(ks) < k_after and str(truth.truth(k_after - 1).timecode) == before, (
        f"the run did not cross {before} -> {after}: {checked[0][1]} .. {checked[-1][1]}")
