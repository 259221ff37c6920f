"""The live preview: a FastAPI server, in a process of its own, for the camera department's page.

It reads what the node and the engine workers already publish (fused frames, styled frames, the
engines' results, the node's status over its control API), keeps only the newest of each, encodes
each frame's parts once for every viewer and sends them over one WebSocket per viewer, each with a
latest-frame slot (docs/preview.md is the protocol; docs/architecture.md the place it has among
the processes). ``onset preview`` runs it (:mod:`edge.cli.preview_cmd`).

Modules, one job each: ``sources`` (waiting/live/late/gone), ``readers`` (one thread per stream),
``frames`` (the encoder thread), ``parts`` (JPEG and depth encoding), ``protocol`` (the messages),
``viewers`` (slots and sender tasks), ``latency`` and ``metrics`` (stage histograms, ``/metrics``),
``node_link``, ``looks`` and ``takes`` (the node's control API, the style worker's look control
and LUTs, the takes folder), ``access`` (the token), ``service`` (all of the above together),
``ws`` and ``app`` (the WebSocket and REST endpoints), ``server`` (uvicorn on its thread).

FastAPI and uvicorn are imported by ``app`` and ``server`` only; nothing outside this package
imports it but the ``onset preview`` command, when it runs.
"""

from __future__ import annotations

from edge.preview.access import Access, make_token
from edge.preview.errors import ApiError, ClientMessageError, PreviewError, PreviewStartError
from edge.preview.parts import PART_KINDS
from edge.preview.protocol import FRAME_MAGIC, MAX_TEXT_BYTES, pack_frame, unpack_frame
from edge.preview.server import PreviewServer, describe_bind
from edge.preview.service import SOURCES, PreviewService, PreviewSettings
from edge.preview.sources import GONE_AFTER_S, LATE_AFTER_S, SourceState, SourceStatus

__all__ = [
    "Access",
    "ApiError",
    "ClientMessageError",
    "FRAME_MAGIC",
    "GONE_AFTER_S",
    "LATE_AFTER_S",
    "MAX_TEXT_BYTES",
    "PART_KINDS",
    "PreviewError",
    "PreviewServer",
    "PreviewService",
    "PreviewSettings",
    "PreviewStartError",
    "SOURCES",
    "SourceState",
    "SourceStatus",
    "describe_bind",
    "make_token",
    "pack_frame",
    "unpack_frame",
]
