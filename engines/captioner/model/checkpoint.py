"""The captioner's model file: weights, what the model takes and gives, and its card, in one file.

Layout (all integers little-endian)::

    8 bytes   magic b"ONSETCAP"
    4 bytes   uint32 format version (FORMAT_VERSION)
    8 bytes   uint64 header length H
    H bytes   header, UTF-8 JSON
    ...       payload: every tensor's bytes, little-endian, in the header's order

The header names the format, the network preset and widths, the input (name, shape per clip,
planes, clip rate), the output names, both class vocabularies, the tensor table (name, dtype,
shape, offset, byte count), the payload's length and its SHA-256, and the model card
(:mod:`.card`). No pickle: reading a model file runs no code from it.

A file is refused, with what was expected, when it is missing or empty, does not start with the
magic, has a format version this Onset does not read, a header that is not the JSON it should
be, a payload shorter or longer than the header says, a payload whose SHA-256 differs from the
header's (corrupt), an input shape or class vocabulary other than this Onset's
(:mod:`engines.captioner.inputs`), or tensors that do not fit its own network.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np
import torch

from engines.captioner.inputs import CHANNELS, CLIP_RATE_HZ, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import CheckpointError
from engines.captioner.model.network import INPUT_NAME, INPUT_SHAPE, OUTPUT_NAMES, CaptionerNet, NetworkConfig

__all__ = ["MAGIC", "FORMAT_NAME", "FORMAT_VERSION", "Checkpoint", "save_checkpoint", "load_checkpoint",
           "load_model", "weights_sha256"]

MAGIC = b"ONSETCAP"
FORMAT_NAME = "onset-captioner-model"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sIQ")
_MAX_HEADER_BYTES = 64 * 1024 * 1024
_DTYPES = {"float32": (torch.float32, np.dtype("<f4")), "int64": (torch.int64, np.dtype("<i8"))}


@dataclass(frozen=True)
class Checkpoint:
    """A model file read back: its network, weights (state dict), SHA-256 and header fields."""

    path: Optional[Path]
    network: NetworkConfig
    state_dict: Dict[str, torch.Tensor]
    weights_sha256: str
    card: Dict[str, Any] = field(default_factory=dict)
    header: Dict[str, Any] = field(default_factory=dict)

    def build_model(self) -> CaptionerNet:
        """The network with these weights, in eval mode."""
        model = CaptionerNet(self.network)
        model.load_state_dict(self.state_dict, strict=True)
        return model.eval()


def _dtype_name(tensor: torch.Tensor) -> str:
    for name, (t, _) in _DTYPES.items():
        if tensor.dtype == t:
            return name
    raise CheckpointError(f"cannot store a {tensor.dtype} tensor; model files hold {', '.join(_DTYPES)}")


def _payload(state_dict: Mapping[str, torch.Tensor]) -> tuple:
    table: List[Dict[str, Any]] = []
    chunks: List[bytes] = []
    offset = 0
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        dtype = _dtype_name(tensor)
        data = tensor.numpy().astype(_DTYPES[dtype][1], copy=False).tobytes()
        table.append({"name": name, "dtype": dtype, "shape": list(tensor.shape), "offset": offset,
                      "nbytes": len(data)})
        chunks.append(data)
        offset += len(data)
    return table, b"".join(chunks)


def weights_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """The SHA-256 (hex) of a state dict's payload as a model file stores it."""
    return hashlib.sha256(_payload(state_dict)[1]).hexdigest()


def _json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as None (JSON has no NaN) and tuples as lists."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _input_header() -> Dict[str, Any]:
    return {"name": INPUT_NAME, "shape": list(INPUT_SHAPE), "dtype": "float32", "channels": list(CHANNELS),
            "clip_rate_hz": CLIP_RATE_HZ}


def save_checkpoint(path: Union[str, Path], model: CaptionerNet, card: Optional[Dict[str, Any]] = None) -> str:
    """Write ``model`` (and its card) to ``path`` atomically; returns the weights' SHA-256."""
    path = Path(path)
    table, payload = _payload(model.state_dict())
    digest = hashlib.sha256(payload).hexdigest()
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "network": model.config.to_dict(),
        "input": _input_header(),
        "outputs": list(OUTPUT_NAMES),
        "vocabularies": {"shot_size": list(SHOT_SIZE_CLASSES), "movement": list(MOVEMENT_CLASSES)},
        "tensors": table,
        "payload_bytes": len(payload),
        "weights_sha256": digest,
        "card": _json_safe(card or {}),
    }
    header_bytes = json.dumps(header, sort_keys=True, allow_nan=False).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header_bytes)))
        out.write(header_bytes)
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return digest


def _read_header(path: Path, blob: bytes) -> Dict[str, Any]:
    if len(blob) < _PREAMBLE.size:
        raise CheckpointError(f"{path} is not an Onset captioner model: {len(blob)} bytes, shorter than the "
                              f"{_PREAMBLE.size}-byte preamble (magic {MAGIC!r}, version, header length)")
    magic, version, header_len = _PREAMBLE.unpack_from(blob)
    if magic != MAGIC:
        raise CheckpointError(f"{path} is not an Onset captioner model: it starts with {magic!r}, "
                              f"expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} is captioner model format version {version}; this Onset reads "
                              f"version {FORMAT_VERSION}")
    if header_len > min(_MAX_HEADER_BYTES, len(blob) - _PREAMBLE.size):
        raise CheckpointError(f"{path} is truncated or corrupt: its header claims {header_len} bytes, "
                              f"the file holds {len(blob) - _PREAMBLE.size} after the preamble")
    try:
        header = json.loads(blob[_PREAMBLE.size:_PREAMBLE.size + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is corrupt: its header is not UTF-8 JSON ({err})") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise CheckpointError(f"{path} is corrupt: header format is {got!r}, expected {FORMAT_NAME!r}")
    return header


def _check_compatible(path: Path, header: Dict[str, Any]) -> None:
    """The file's input and vocabularies against this Onset's."""
    expected = _input_header()
    got = header.get("input") or {}
    if list(got.get("shape") or []) != expected["shape"] or got.get("name") != INPUT_NAME:
        raise CheckpointError(
            f"{path} was made for input {got.get('name')!r} of shape (B, {', '.join(map(str, got.get('shape') or []))}); "
            f"this Onset feeds {INPUT_NAME!r} of shape (B, {', '.join(map(str, INPUT_SHAPE))}) "
            f"(engines/captioner/inputs.py): retrain or re-export the model for it")
    for key in ("channels", "dtype", "clip_rate_hz"):
        if got.get(key) != expected[key]:
            raise CheckpointError(f"{path} was made for input {key} {got.get(key)!r}; this Onset's is "
                                  f"{expected[key]!r} (engines/captioner/inputs.py)")
    vocab = header.get("vocabularies") or {}
    for head, classes in (("shot_size", SHOT_SIZE_CLASSES), ("movement", MOVEMENT_CLASSES)):
        if list(vocab.get(head) or []) != list(classes):
            raise CheckpointError(f"{path}'s {head} classes are {vocab.get(head)}; this Onset's are "
                                  f"{list(classes)}")
    if list(header.get("outputs") or []) != list(OUTPUT_NAMES):
        raise CheckpointError(f"{path}'s outputs are {header.get('outputs')}; expected {list(OUTPUT_NAMES)}")


def _tensors(path: Path, header: Dict[str, Any], payload: memoryview) -> Dict[str, torch.Tensor]:
    state: Dict[str, torch.Tensor] = {}
    try:
        for entry in header["tensors"]:
            torch_dtype, np_dtype = _DTYPES[entry["dtype"]]
            shape = tuple(int(s) for s in entry["shape"])
            start, nbytes = int(entry["offset"]), int(entry["nbytes"])
            count = int(np.prod(shape, dtype=np.int64))
            if nbytes != count * np_dtype.itemsize or start < 0 or start + nbytes > len(payload):
                raise CheckpointError(f"{path} is corrupt: tensor {entry['name']} {shape} {entry['dtype']} does "
                                      f"not fit {nbytes} bytes at offset {start} of a {len(payload)}-byte payload")
            array = np.frombuffer(payload[start:start + nbytes], dtype=np_dtype).reshape(shape)
            state[entry["name"]] = torch.from_numpy(array.copy()).to(torch_dtype)
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path} is corrupt: its tensor table is malformed ({err!r})") from err
    return state


def _check_tensors(path: Path, network: NetworkConfig, state: Dict[str, torch.Tensor]) -> None:
    expected = {k: tuple(v.shape) for k, v in CaptionerNet(network).state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f"{k} is {tuple(state[k].shape)}, expected {expected[k]}" for k in sorted(set(expected) & set(state))
             if tuple(state[k].shape) != expected[k]]
    if missing or unexpected or wrong:
        parts = ([f"missing {', '.join(missing[:5])}"] if missing else []) + (
            [f"unexpected {', '.join(unexpected[:5])}"] if unexpected else []) + wrong[:5]
        raise CheckpointError(f"{path}'s tensors do not fit its network {network.name!r}: {'; '.join(parts)}")


def load_checkpoint(path: Union[str, Path]) -> Checkpoint:
    """Read and check a model file (module docstring); raises :class:`CheckpointError`."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"no captioner model at {path}") from None
    except OSError as err:
        raise CheckpointError(f"cannot read the captioner model {path}: {err}") from err
    header = _read_header(path, blob)
    _check_compatible(path, header)
    payload = memoryview(blob)[_PREAMBLE.size + _PREAMBLE.unpack_from(blob)[2]:]
    declared = header.get("payload_bytes")
    if declared != len(payload):
        raise CheckpointError(f"{path} is truncated or corrupt: the header declares {declared} bytes of weights, "
                              f"the file holds {len(payload)}")
    digest = hashlib.sha256(payload).hexdigest()
    if digest != header.get("weights_sha256"):
        raise CheckpointError(f"{path} is corrupt: its weights' SHA-256 is {digest}, the header says "
                              f"{header.get('weights_sha256')}")
    try:
        network = NetworkConfig.from_dict(dict(header.get("network") or {}))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: {err}") from err
    state = _tensors(path, header, payload)
    _check_tensors(path, network, state)
    return Checkpoint(path=path, network=network, state_dict=state, weights_sha256=digest,
                      card=dict(header.get("card") or {}), header=header)


def load_model(path: Union[str, Path]) -> CaptionerNet:
    """The model in a model file, in eval mode (:func:`load_checkpoint`)."""
    return load_checkpoint(path).build_model()
