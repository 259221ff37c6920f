"""The preview's WebSocket messages (docs/preview.md, "The WebSocket"): pure functions, no sockets.

Server to page: a binary frame message (:func:`pack_frame`: ``b"OPF1"``, a big-endian ``uint32``
header length, the UTF-8 JSON header, then each part's bytes in the header's order) and text
JSON messages (``hello``, ``state``, ``pong``, ``error``). Page to server: text JSON messages
``parts``, ``ping`` and ``drawn``, read by :func:`parse_client_message`, which names what is wrong
with one it cannot take (:class:`~edge.preview.errors.ClientMessageError`).

JSON leaves without NaN or infinities (not JSON): a non-finite number is sent as null.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple, Union

from edge.preview.errors import ClientMessageError
from edge.preview.parts import PART_KINDS
from engines.worker.results import encode_result

__all__ = ["FRAME_MAGIC", "MAX_TEXT_BYTES", "PartsRequest", "Ping", "Drawn", "ClientMessage", "json_text",
           "pack_frame", "unpack_frame", "parse_client_message"]

FRAME_MAGIC = b"OPF1"
#: The largest text message a page may send, bytes of UTF-8; a larger one closes its socket (1008).
MAX_TEXT_BYTES = 4096
_MAX_ID_CHARS = 64
_INT64 = 1 << 63


@dataclass(frozen=True)
class PartsRequest:
    """``{"type": "parts", "parts": [...]}``: the parts this viewer wants from now on."""

    parts: frozenset


@dataclass(frozen=True)
class Ping:
    """``{"type": "ping", "id", "client_ms"}``: a clock-sync probe (echoed in a ``pong``)."""

    id: Union[int, str]
    client_ms: float


@dataclass(frozen=True)
class Drawn:
    """``{"type": "drawn", "seq", "drawn_ns"}``: the page drew frame ``seq`` at ``drawn_ns`` (server clock)."""

    seq: int
    drawn_ns: int


ClientMessage = Union[PartsRequest, Ping, Drawn]


def json_text(message: Dict[str, Any]) -> str:
    """A message as JSON text (non-finite numbers as null)."""
    return encode_result(message).decode("utf-8")


def pack_frame(header_json: str, parts: Sequence[bytes]) -> bytes:
    """One binary frame message from its header's JSON text and its parts' bytes."""
    header = header_json.encode("utf-8")
    return b"".join([FRAME_MAGIC, struct.pack(">I", len(header)), header, *parts])


def unpack_frame(data: bytes) -> Tuple[Dict[str, Any], List[bytes]]:
    """The header and parts of a frame message; ValueError says what does not add up."""
    if len(data) < 8 or data[:4] != FRAME_MAGIC:
        raise ValueError(f"not a frame message: starts with {bytes(data[:4])!r}, expected {FRAME_MAGIC!r}")
    (length,) = struct.unpack(">I", data[4:8])
    if 8 + length > len(data):
        raise ValueError(f"header claims {length} bytes, {len(data) - 8} follow")
    header = json.loads(data[8:8 + length].decode("utf-8"))
    parts, offset = [], 8 + length
    for spec in header["parts"]:
        size = int(spec["bytes"])
        if offset + size > len(data):
            raise ValueError(f"part {spec.get('kind')!r} claims {size} bytes, {len(data) - offset} are left")
        parts.append(bytes(data[offset:offset + size]))
        offset += size
    if offset != len(data):
        raise ValueError(f"{len(data) - offset} bytes after the last part")
    return header, parts


def _int(value: Any, what: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < _INT64:
        raise ClientMessageError(f"{what} must be a whole number in [{low}, 2**63), got {value!r:.40}")
    return value


def _parts(body: Dict[str, Any]) -> PartsRequest:
    parts = body.get("parts")
    if not isinstance(parts, list) or len(parts) > len(PART_KINDS) * 2:
        raise ClientMessageError(f"parts must be a list of part names out of {', '.join(PART_KINDS)}")
    unknown = [p for p in parts if p not in PART_KINDS]
    if unknown:
        raise ClientMessageError(f"unknown part {unknown[0]!r:.40}; the parts are {', '.join(PART_KINDS)}")
    return PartsRequest(frozenset(parts))


def _ping(body: Dict[str, Any]) -> Ping:
    ident = body.get("id")
    if isinstance(ident, bool) or not isinstance(ident, (int, str)) or (isinstance(ident, str) and len(ident) > _MAX_ID_CHARS):
        raise ClientMessageError(f"ping id must be a number or a string of at most {_MAX_ID_CHARS} characters")
    client_ms = body.get("client_ms")
    if isinstance(client_ms, bool) or not isinstance(client_ms, (int, float)) or not math.isfinite(client_ms):
        raise ClientMessageError(f"ping client_ms must be a finite number of milliseconds, got {client_ms!r:.40}")
    return Ping(ident, float(client_ms))


def _drawn(body: Dict[str, Any]) -> Drawn:
    return Drawn(_int(body.get("seq"), "drawn seq"), _int(body.get("drawn_ns"), "drawn_ns", -_INT64))


_READERS = {"parts": _parts, "ping": _ping, "drawn": _drawn}


def parse_client_message(text: str) -> ClientMessage:
    """The page's message in ``text`` (module docstring), or :class:`ClientMessageError`."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ClientMessageError(f"a message must be JSON: {str(err):.80}") from None
    if not isinstance(body, dict):
        raise ClientMessageError("a message must be a JSON object with a type")
    kind = body.get("type")
    reader = _READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        raise ClientMessageError(f"unknown message type {kind!r:.40}; the page sends {', '.join(_READERS)}")
    return reader(body)
