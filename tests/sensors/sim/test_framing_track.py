"""framing_take: each size held on each default-stage actor with the track laid (or kept) for the shot,
read back from the stage's truth, the zoom within 15-300 mm and the stage's layout unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from config import load_profile
from config.models import RigConfig
from sensors.sim.framing import SIZES, TAKE_LENS_MM, framing_take
from sensors.sim.stage import Stage

from .conftest import EPOCH_NS
from .test_framing import _assert_framed, _truth

# Out of the 300 mm zoom's reach on the default stage: no track placement near these actors keeps
# the stage's layout (and clear of the set), and the stage's own track is 4.5-6 m from their walks.
OUT_OF_REACH = {("ECU", 0), ("ECU", 1), ("CU", 1)}


@pytest.fixture(scope="module")
def profile() -> RigConfig:
    return load_profile()


@pytest.mark.parametrize("actor", [0, 1])
@pytest.mark.parametrize("size", SIZES)
def test_each_size_is_held_within_the_zoom_on_a_stage_with_the_same_layout(profile, size, actor) -> None:
    if (size, actor) in OUT_OF_REACH:
        with pytest.raises(ValueError, match=r"the zoom is 15-300 mm"):
            framing_take(size, profile.stage, actor, camera=profile.camera)
        return
    stage, keys = framing_take(size, profile.stage, actor, camera=profile.camera)
    assert stage.track_length_m == profile.stage.track_length_m and stage.seed == profile.stage.seed
    lo, hi = TAKE_LENS_MM
    assert all(lo <= k.focal_length_mm <= hi for k in keys)
    assert all(0.0 <= k.dolly_m <= stage.track_length_m for k in keys)
    before, after = Stage(profile.stage, EPOCH_NS), Stage(stage, EPOCH_NS)
    assert [a.path for a in after.actors] == [a.path for a in before.actors]
    assert after.dressing == before.dressing
    _assert_framed(size, _truth(stage, profile.camera, actor, keys), profile.camera)
    if size != "WS":  # the dolly follows the actor: the lens abeam it, unless at a track's end
        _assert_abeam(stage, actor, keys)


def _assert_abeam(stage, actor: int, keys) -> None:
    played = Stage(stage.model_copy(update={"shot": keys, "loop": False}), EPOCH_NS)
    heading = np.radians(stage.track_heading_deg)
    along = np.array([np.cos(heading), np.sin(heading)])
    for k in keys[2:-2:4]:
        if not 0.05 < k.dolly_m < stage.track_length_m - 0.05:
            continue  # held at a track's end
        t_ns = EPOCH_NS + int(k.t_s * 1e9)
        lens_xy = played.rig_pose(t_ns).position_m[:2]
        actor_xy = played.actor_matrices(t_ns)[actor][:2, 3]
        assert abs(float((actor_xy - lens_xy) @ along)) < 0.02, k.t_s


def test_bad_requests_raise(profile) -> None:
    with pytest.raises(ValueError, match="unknown shot size"):
        framing_take("XCU", profile.stage, 0)
    with pytest.raises(ValueError, match="distance_m"):
        framing_take("MS", profile.stage, 0, distance_m=-1.0)
