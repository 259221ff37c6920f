"""Train, validation and test splits by scene, so evaluation meets sets the model never saw.

A scene is a take's slate scene. Capture plans name theirs ``<plan>-s<seed>``: one seed of the
simulated stage is one set dressing, one pair of actors, one lighting; on a real stage a scene
is one set-up. Splitting by scene (never by frame or take) keeps every frame of a set dressing,
an actor and a light in one split.

:func:`assign_splits` puts the scenes named in ``val_scenes`` / ``test_scenes`` where they are
named and every other scene by a hash: ``u = sha256("<salt>:<scene>")`` read as a fraction in
[0, 1); ``u < test_fraction`` is test, then ``u < test_fraction + val_fraction`` validation, the
rest training. A split whose scenes are named takes no hashed scene. The hash does not depend on
which other scenes there are, so adding takes never moves a scene from one split to another.
With few scenes a split may come out empty (the table says so; name the scenes then).
"""

from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Mapping, Sequence

from engines.captioner.dataset.errors import SplitError

__all__ = ["SPLITS", "DEFAULT_VAL_FRACTION", "DEFAULT_TEST_FRACTION", "DEFAULT_SALT", "scene_fraction",
           "assign_splits", "split_table"]

SPLITS = ("train", "val", "test")
DEFAULT_VAL_FRACTION = 0.1
DEFAULT_TEST_FRACTION = 0.1
DEFAULT_SALT = "onset-captioner"


def scene_fraction(scene: str, salt: str = DEFAULT_SALT) -> float:
    """The scene's place in [0, 1) by hash (module docstring)."""
    digest = hashlib.sha256(f"{salt}:{scene}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / float(1 << 64)


def assign_splits(
    scenes: Iterable[str],
    val_scenes: Sequence[str] = (),
    test_scenes: Sequence[str] = (),
    val_fraction: float = DEFAULT_VAL_FRACTION,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    salt: str = DEFAULT_SALT,
) -> Dict[str, str]:
    """Scene -> split name for every scene (module docstring). Raises :class:`SplitError` for a
    scene named for two splits, a named scene no take has, or fractions outside [0, 1] in total."""
    present = sorted(set(scenes))
    val, test = list(dict.fromkeys(val_scenes)), list(dict.fromkeys(test_scenes))
    both = sorted(set(val) & set(test))
    if both:
        raise SplitError(f"scene(s) {', '.join(both)} named for both validation and test: a scene is in one split")
    unknown = sorted((set(val) | set(test)) - set(present))
    if unknown:
        raise SplitError(f"scene(s) {', '.join(unknown)} named for a split but no take has them "
                         f"(the takes' scenes: {', '.join(present) or 'none'})")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= float(value) <= 1.0:
            raise SplitError(f"{name} must be between 0 and 1, got {value}")
    if float(val_fraction) + float(test_fraction) > 1.0:
        raise SplitError(f"val_fraction + test_fraction is {val_fraction + test_fraction}, more than 1")
    out: Dict[str, str] = {}
    for scene in present:
        if scene in val:
            out[scene] = "val"
        elif scene in test:
            out[scene] = "test"
        else:
            u = scene_fraction(scene, salt)
            if u < test_fraction and not test:
                out[scene] = "test"
            elif u < test_fraction + val_fraction and not val:
                out[scene] = "val"
            else:
                out[scene] = "train"
    return out


def split_table(assignment: Mapping[str, str], takes_per_scene: Mapping[str, int]) -> List[str]:
    """Lines of a plain table: each split, its scenes and how many takes they hold."""
    lines = [f"{'SPLIT':<6}  {'SCENES':>6}  {'TAKES':>5}  SCENE NAMES"]
    for split in SPLITS:
        scenes = sorted(s for s, where in assignment.items() if where == split)
        takes = sum(int(takes_per_scene.get(s, 0)) for s in scenes)
        names = ", ".join(scenes) if scenes else "(none)"
        lines.append(f"{split:<6}  {len(scenes):>6}  {takes:>5}  {names}")
    return lines
