"""Small takes of the simulated stage for the catalogue tests, recorded as the edge node records them.

Recording goes through the dataset tests' :func:`tests.engines.captioner.dataset.takes.record_replay`
(the sims decoded by the real drivers, fused by the real synchronizer, written by the real
recorder). To keep each take to a few MB the camera is 128x72 and the LiDAR's range is cut to
4 m (the stage's walls, floor and ceiling beyond it return nothing; the framed actor does):

* :func:`record_zoom`: an MCU of actor 0 on stage seed 2 at about 2.6 m while the lens zooms in
  from 61 to 95 mm, LiDAR on (shot size, subject distance), 2.1 s, sealed xxh128 as it closes;
* :func:`record_dolly`: the rig at rest, a push-in (dolly in, 1.6 s), at rest again, without
  LiDAR (shot size and distance missing), 3.6 s, sealed xxh64 as it closes; one replay gives
  several takes (variants).

:func:`upload_take` puts a take folder into the store in the uploader's layout
(``<prefix><take name>/<path in the take>`` for every file, ``ascmhl/`` included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Sequence

from config import load_profile
from config.models import RigConfig
from sensors.sim.framing import framing_take
from sensors.sim.shots import movement_plan
from sensors.sim.stage import Stage
from tests.engines.captioner.dataset.takes import Variant, record_replay
from tests.harness.replay import EPOCH_NS

__all__ = ["small_rig", "record_zoom", "record_dolly", "upload_take", "Variant"]

CAMERA_PX = (128, 72)
LIDAR_RANGE_M = 4.0


def small_rig(seed: int, hash_format: str, author: str = "dit") -> RigConfig:
    """The default rig with a small camera and a short-range LiDAR, on stage ``seed``; the recorder
    seals each take as it closes (ASC MHL generation 1) in ``hash_format`` by ``author``."""
    base = load_profile()
    camera = base.camera.model_copy(update={"width_px": CAMERA_PX[0], "height_px": CAMERA_PX[1]})
    lidars = [lidar.model_copy(update={"max_range_m": LIDAR_RANGE_M}) for lidar in base.lidars]
    stage = base.stage.model_copy(update={"seed": seed})
    custody = base.studio.custody.model_copy(update={"hash_format": hash_format, "author": author, "on_close": True})
    studio = base.studio.model_copy(update={"custody": custody})
    return base.model_copy(update={"camera": camera, "lidars": lidars, "stage": stage, "studio": studio})


def record_zoom(takes_dir: Path, scene: str = "zoom-s1") -> Path:
    """The MCU zoom take (module docstring) in ``takes_dir``; its folder."""
    base = small_rig(seed=2, hash_format="xxh128")
    stage_config, plan = framing_take("MCU", base.stage, 0, duration_s=1.6, start_s=3.0, camera=base.camera)
    rig = base.model_copy(update={"stage": stage_config.model_copy(update={"shot": plan, "loop": False})})
    replayed = record_replay(rig, Stage(rig.stage, EPOCH_NS), takes_dir, [Variant(scene, take=1)], 2.1,
                             start_s=plan[0].t_s - 0.25)
    return replayed.takes[Variant(scene, take=1)]


def record_dolly(takes_dir: Path, variants: Sequence[Variant]) -> Dict[Variant, Path]:
    """The push-in take (module docstring), once per variant, in ``takes_dir``; variant -> folder."""
    base = small_rig(seed=0, hash_format="xxh64")
    plan = movement_plan("dolly_in", base.stage, duration_s=1.6, start_s=1.0)
    rig = base.model_copy(update={"stage": base.stage.model_copy(update={"shot": plan, "loop": False})})
    replayed = record_replay(rig, Stage(rig.stage, EPOCH_NS), takes_dir, list(variants), 3.6)
    return dict(replayed.takes)


def upload_take(client: Any, bucket: str, prefix: str, folder: Path, name: str = "") -> str:
    """Put every file of the take ``folder`` under ``<prefix><name>/`` (``name``: the folder's); the name."""
    name = name or folder.name
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        client.put_object(Bucket=bucket, Key=f"{prefix}{name}/{path.relative_to(folder).as_posix()}",
                          Body=path.read_bytes())
    return name
