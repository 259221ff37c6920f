"""A folder of pairs to what the style trainer learns from: found, read, registered, masked.

:func:`load_registered_pairs` is ``onset engines train style --pairs DIR``'s way in: every pair of
:func:`~.folder.find_pairs` is read (:func:`~.image.load_image`), registered
(:func:`~.register.register_pair`), its test warped onto the control's pixels
(:func:`~.geometry.warp_test`) and masked (:func:`~.agreement.agreement_mask`). A pair that
fails any step is a :class:`PairProblem` saying which and why, and is not returned: the colour is
learned only where a pair agrees, and a pair that cannot be registered is reported, not used.
:func:`register_pair_files` does one pair, for a caller that streams them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

from engines.style.pairs.agreement import MIN_AGREEMENT_FRACTION, agreement_mask
from engines.style.pairs.errors import PairImageError
from engines.style.pairs.folder import find_pairs
from engines.style.pairs.geometry import warp_test
from engines.style.pairs.image import load_image
from engines.style.pairs.register import register_pair
from engines.style.pairs.types import PairFiles, PairMetrics, PairProblem, ProblemKind, RegisteredPair

__all__ = ["register_pair_files", "load_registered_pairs"]


def register_pair_files(pair: PairFiles) -> Union[RegisteredPair, PairProblem]:
    """One pair read, registered and masked, or the problem that stopped it (module docstring)."""
    images = []
    for role, path in (("control", pair.control_path), ("test", pair.test_path)):
        try:
            images.append(load_image(path))
        except PairImageError as err:
            return PairProblem(pair.name, path, f"{role} {err.reason}", err.kind)
    control, test = images
    registration = register_pair(control, test)
    if not registration.registered:
        return PairProblem(pair.name, pair.test_path, f"not registered ({registration.verdict.value}): "
                           f"{registration.detail}", ProblemKind.NOT_REGISTERED, registration.verdict)
    H = registration.H_test_control
    control_size = (control.shape[1], control.shape[0])
    test_size = (test.shape[1], test.shape[0])
    test_warped = warp_test(test, H, control_size)
    agreement = agreement_mask(control, test_warped, H, test_size, registration.metrics.misregistration_px)
    stats = agreement.stats
    if stats.fraction < MIN_AGREEMENT_FRACTION:
        return PairProblem(pair.name, pair.test_path, f"registered, but only {stats.fraction:.1%} of the control's "
                           f"pixels agree (at least {MIN_AGREEMENT_FRACTION:.0%} needed): {stats.outside:.1%} "
                           f"outside the test, {stats.clipped:.1%} clipped, {stats.disagree:.1%} disagreeing, "
                           f"{stats.edge:.1%} at edges", ProblemKind.LOW_AGREEMENT)
    metrics = PairMetrics(registration.metrics, stats, control_size, test_size)
    return RegisteredPair(pair.name, control, test_warped, agreement.mask, H, metrics)


def load_registered_pairs(folder: Union[str, Path], *, progress: Optional[Callable[[int], None]] = None,
                          ) -> Tuple[List[RegisteredPair], List[PairProblem]]:
    """The usable pairs of ``folder`` (sorted by name) and every problem found, the folder's first
    (module docstring). ``progress(1)`` hears each pair done. Raises
    :class:`~engines.style.pairs.errors.PairFolderError` or :class:`~engines.style.pairs.errors.NoPairsError`
    for a folder that is missing, ambiguous or empty."""
    pair_set = find_pairs(Path(folder))
    registered: List[RegisteredPair] = []
    problems: List[PairProblem] = list(pair_set.problems)
    for pair in pair_set.pairs:
        result = register_pair_files(pair)
        if isinstance(result, RegisteredPair):
            registered.append(result)
        else:
            problems.append(result)
        if progress is not None:
            progress(1)
    return registered, problems
