"""``/metrics``: Prometheus text exposition format 0.0.4, written by hand (no client library).

A :class:`Family` is one metric: its name, type (``counter``, ``gauge``), help and samples
(labels, value). :func:`histogram_family` turns the latency stages into one ``histogram`` family
(``_bucket`` with cumulative ``le`` bounds ending in ``+Inf``, ``_sum``, ``_count`` per stage).
:func:`render` writes ``# HELP`` and ``# TYPE`` before each family's samples; label values are
escaped (backslash, double quote, newline) and numbers written so that Prometheus reads them back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

from edge.preview.latency import StageHistogram

__all__ = ["CONTENT_TYPE", "Family", "histogram_family", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = Tuple[str, Dict[str, str], float]


@dataclass
class Family:
    """One metric family; ``samples`` are (name suffix, labels, value)."""

    name: str
    kind: str
    help: str
    samples: List[Sample] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> "Family":
        self.samples.append(("", dict(labels), value))
        return self


def _number(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def histogram_family(name: str, help_text: str, stages: Sequence[StageHistogram]) -> Family:
    family = Family(name, "histogram", help_text)
    for stage in stages:
        for bound, count in stage.buckets:
            family.samples.append(("_bucket", {"stage": stage.stage, "le": _number(bound)}, count))
        family.samples.append(("_bucket", {"stage": stage.stage, "le": "+Inf"}, stage.count))
        family.samples.append(("_sum", {"stage": stage.stage}, stage.sum_s))
        family.samples.append(("_count", {"stage": stage.stage}, stage.count))
    return family


def render(families: Iterable[Family]) -> str:
    """The exposition text of ``families`` (module docstring)."""
    lines: List[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            lines.append(f"{family.name}{suffix}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"
