"""The model file: round trip, and every way a file can be wrong refused with what was expected."""

import json
import struct

import pytest
import torch

from engines.captioner.model.checkpoint import (
    FORMAT_VERSION, MAGIC, load_checkpoint, load_model, save_checkpoint, weights_sha256,
)
from engines.captioner.model.errors import CheckpointError
from engines.captioner.model.network import INPUT_SHAPE, CaptionerNet, network_config

_PREAMBLE = struct.Struct("<8sIQ")


@pytest.fixture(scope="module")
def model() -> CaptionerNet:
    torch.manual_seed(5)
    m = CaptionerNet(network_config("tiny"))
    m.set_target_stats((3.9, 0.6), (1.1, 0.7))
    m.set_calibration(1.8, 2.2, 1.3, 0.9)
    return m.eval()


@pytest.fixture()
def saved(tmp_path, model):
    path = tmp_path / "captioner.onsetcap"
    digest = save_checkpoint(path, model, {"note": "test card", "metric": float("nan")})
    return path, digest


def _split(path):
    blob = path.read_bytes()
    magic, version, length = _PREAMBLE.unpack_from(blob)
    header = json.loads(blob[_PREAMBLE.size:_PREAMBLE.size + length])
    return magic, version, header, blob[_PREAMBLE.size + length:]


def _rewrite(path, header=None, version=None, payload=None, magic=None):
    old_magic, old_version, old_header, old_payload = _split(path)
    body = json.dumps(header if header is not None else old_header).encode()
    path.write_bytes(_PREAMBLE.pack(magic or old_magic, old_version if version is None else version, len(body))
                     + body + (old_payload if payload is None else payload))


def test_round_trip_gives_the_same_model(saved, model):
    path, digest = saved
    checkpoint = load_checkpoint(path)
    assert checkpoint.weights_sha256 == digest == weights_sha256(model.state_dict())
    assert checkpoint.network == network_config("tiny")
    assert checkpoint.card == {"note": "test card", "metric": None}  # JSON has no NaN
    loaded = load_model(path)
    assert loaded.calibration() == model.calibration()
    frames = torch.rand(2, *INPUT_SHAPE)
    with torch.no_grad():
        want, got = model(frames), loaded(frames)
    for name, value in want.items():
        assert torch.equal(value, got[name]), name
    assert not path.with_name(path.name + ".tmp").exists()


def test_header_states_format_input_and_vocabularies(saved):
    magic, version, header, _ = _split(saved[0])
    assert magic == MAGIC and version == FORMAT_VERSION == header["format_version"]
    assert header["input"]["shape"] == list(INPUT_SHAPE)
    assert len(header["vocabularies"]["shot_size"]) == 8 and len(header["vocabularies"]["movement"]) == 15


def test_a_flipped_byte_in_the_weights_is_refused(saved):
    path, digest = saved
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=f"is corrupt: its weights' SHA-256 is .*, the header says {digest}"):
        load_checkpoint(path)


def test_a_truncated_file_is_refused(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="truncated or corrupt: the header declares .* bytes of weights"):
        load_checkpoint(path)
    path.write_bytes(path.read_bytes()[:_PREAMBLE.size + 5])
    with pytest.raises(CheckpointError, match="truncated or corrupt: its header claims"):
        load_checkpoint(path)


def test_other_files_are_not_models(tmp_path, model):
    missing = tmp_path / "nothing.onsetcap"
    with pytest.raises(CheckpointError, match="no captioner model at"):
        load_checkpoint(missing)
    empty = tmp_path / "empty.onsetcap"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="0 bytes, shorter than the 20-byte preamble"):
        load_checkpoint(empty)
    pickled = tmp_path / "model.pt"
    torch.save(model.state_dict(), pickled)
    with pytest.raises(CheckpointError, match="is not an Onset captioner model: it starts with .*expected b'ONSETCAP'"):
        load_checkpoint(pickled)


def test_an_unknown_format_version_is_refused(saved):
    path, _ = saved
    _rewrite(path, version=FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match=f"format version {FORMAT_VERSION + 1}; this Onset reads version "
                                              f"{FORMAT_VERSION}"):
        load_checkpoint(path)


def test_a_corrupt_header_is_refused(saved):
    path, _ = saved
    _, _, header, payload = _split(path)
    body = json.dumps(header).encode()[:-3] + b"~~~"
    path.write_bytes(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(body)) + body + payload)
    with pytest.raises(CheckpointError, match="its header is not UTF-8 JSON"):
        load_checkpoint(path)


def test_a_model_for_other_input_shapes_is_refused(saved):
    path, _ = saved
    _, _, header, _ = _split(path)
    header["input"]["shape"] = [8, 5, 64, 64]
    _rewrite(path, header=header)
    with pytest.raises(CheckpointError, match=r"made for input 'frames' of shape \(B, 8, 5, 64, 64\); this Onset "
                                              r"feeds 'frames' of shape \(B, 8, 5, 72, 128\)"):
        load_checkpoint(path)


def test_a_model_with_other_classes_is_refused(saved):
    path, _ = saved
    _, _, header, _ = _split(path)
    header["vocabularies"]["movement"] = header["vocabularies"]["movement"][:-1]
    _rewrite(path, header=header)
    with pytest.raises(CheckpointError, match="movement classes are .*; this Onset's are"):
        load_checkpoint(path)


def test_tensors_that_do_not_fit_the_network_are_refused(saved):
    path, _ = saved
    _, _, header, _ = _split(path)
    header["network"] = network_config("small").to_dict()
    _rewrite(path, header=header)
    with pytest.raises(CheckpointError, match="tensors do not fit its network 'small': .* is .*, expected"):
        load_checkpoint(path)


def test_a_malformed_tensor_table_is_refused(saved):
    path, _ = saved
    _, _, header, _ = _split(path)
    header["tensors"][0]["nbytes"] += 4
    _rewrite(path, header=header)
    with pytest.raises(CheckpointError, match="does not fit .* bytes at offset"):
        load_checkpoint(path)
