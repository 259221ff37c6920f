"""The simulated film stage: a set, actors, lights and a camera rig that know the ground truth.

:class:`sensors.sim.stage.Stage` is the facade the simulated sensors query (rig pose and lens at
any instant, exact ray casting against the moving set, rendered camera images).
:class:`sensors.sim.clock.DriftingClock` gives each simulated sensor its own clock.

Modules: ``scene`` (Open3D ray-casting scenes, exact casting against moving actors), ``actors``
(humanoid proxies walking loops), ``dressing`` (seeded set dressing), ``layout`` (floor-plan
clearances), ``rig`` (dolly/crane/head kinematics), ``shot_plan`` (keyframe interpolation),
``shots`` (named plans, one camera movement at a time) and ``framing`` (plans that hold a shot
size on a walking actor), ``lighting`` (key/fill/ambient), ``pixel_grid`` and ``render`` (the
camera image), ``stage``;
``run`` (:class:`~sensors.sim.run.SimulatedStage`: the whole stage in real time) and ``processes``
(each simulated device in a process of its own, all or nothing).
Importing this package (or :mod:`sensors.sim.stage`) is light: Open3D loads when a stage is built.
"""

from __future__ import annotations

__all__ = ["Stage", "DriftingClock"]


def __getattr__(name: str):
    # Lazy: ``from sensors.sim import Stage`` works without importing Open3D at package import.
    if name == "Stage":
        from sensors.sim.stage import Stage

        return Stage
    if name == "DriftingClock":
        from sensors.sim.clock import DriftingClock

        return DriftingClock
    raise AttributeError(f"module 'sensors.sim' has no attribute {name!r}")
