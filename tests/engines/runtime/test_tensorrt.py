"""TensorRT backend, the parts that run without a GPU: cache keys, the engine cache, the FP16 choice,
availability reasons and what the build asks of TensorRT.

No test here runs TensorRT: the fakes below stand for the ``tensorrt`` namespace only to check which
documented calls this module makes and with what; an engine built and run on a GPU is not tested.
"""

import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from engines.runtime import BackendFailure, BackendUnavailableError, ModelFileError, TensorRTBackend
from engines.runtime import tensorrt_backend as trt_b
from engines.runtime._probe import Availability
from engines.runtime.tensorrt_backend import build_serialized_engine, plan_precision, tensorrt_available
from engines.runtime.tensorrt_cache import EngineCache, EngineCacheKey, slug

KEY = EngineCacheKey(gpu_name="NVIDIA H200", compute_capability=(9, 0), tensorrt_version="10.3.0",
                     model_name="captioner", model_sha256="a" * 64, onnx_sha256="b" * 64, precision="fp16")


def test_the_key_names_gpu_capability_version_and_precision_and_digests_everything():
    assert KEY.stem == f"captioner-nvidia-h200-sm90-trt10.3.0-fp16-{KEY.digest[:16]}"
    assert KEY.timing_cache_name == "timing-nvidia-h200-sm90-trt10.3.0-fp16.cache"
    assert len(KEY.digest) == 64 and KEY.digest == replace(KEY).digest


@pytest.mark.parametrize("field, value", [
    ("gpu_name", "NVIDIA A100-SXM4-80GB"), ("compute_capability", (8, 7)), ("tensorrt_version", "10.4.0"),
    ("model_name", "style"), ("model_sha256", "c" * 64), ("onnx_sha256", "d" * 64), ("precision", "fp32"),
])
def test_a_change_in_any_field_is_another_engine(field, value):
    other = replace(KEY, **{field: value})
    assert other.digest != KEY.digest and other.stem != KEY.stem


def test_the_timing_cache_is_shared_across_models_but_not_devices_versions_or_precisions():
    assert replace(KEY, model_sha256="c" * 64, onnx_sha256="d" * 64).timing_cache_name == KEY.timing_cache_name
    for field, value in (("gpu_name", "Orin"), ("tensorrt_version", "11.0"), ("precision", "fp32")):
        assert replace(KEY, **{field: value}).timing_cache_name != KEY.timing_cache_name


def test_names_become_safe_file_name_parts():
    assert slug("NVIDIA Jetson AGX Orin (64GB)") == "nvidia-jetson-agx-orin-64gb"
    assert slug("../..") == "unknown"
    with pytest.raises(ValueError, match=r"compute_capability must be \(major, minor\)"):
        replace(KEY, compute_capability=(9,))


def test_a_stored_engine_loads_back_under_its_key_only(tmp_path):
    cache = EngineCache(tmp_path / "trt")
    assert cache.load_engine(KEY) is None
    path = cache.store_engine(KEY, b"serialized engine")
    assert path == tmp_path / "trt" / f"{KEY.stem}.engine"
    assert cache.load_engine(KEY) == b"serialized engine"
    other = replace(KEY, precision="fp32")
    cache.engine_path(other).write_bytes(b"serialized engine")
    cache.record_path(other).write_bytes(cache.record_path(KEY).read_bytes())  # a record naming another key
    assert cache.load_engine(other) is None


def test_a_damaged_engine_or_a_missing_record_is_rebuilt_not_loaded(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store_engine(KEY, b"serialized engine")
    cache.engine_path(KEY).write_bytes(b"serialized engin")
    assert cache.load_engine(KEY) is None
    cache.store_engine(KEY, b"serialized engine")
    cache.record_path(KEY).unlink()
    assert cache.load_engine(KEY) is None


def test_the_timing_cache_round_trips_and_starts_empty(tmp_path):
    cache = EngineCache(tmp_path)
    assert cache.load_timing_cache(KEY) == b""
    cache.store_timing_cache(KEY, b"")
    assert not cache.timing_cache_path(KEY).exists()
    cache.store_timing_cache(KEY, b"timings")
    assert cache.load_timing_cache(replace(KEY, model_name="style")) == b"timings"


TRT10 = SimpleNamespace(BuilderFlag=SimpleNamespace(FP16="FP16", TF32="TF32"),
                        NetworkDefinitionCreationFlag=SimpleNamespace(STRONGLY_TYPED=0))
TRT11 = SimpleNamespace(BuilderFlag=SimpleNamespace(TF32="TF32"),
                        NetworkDefinitionCreationFlag=SimpleNamespace(STRONGLY_TYPED=0))


def test_fp16_uses_the_builder_flag_where_tensorrt_has_it():
    plan = plan_precision(TRT10, "fp16")
    assert plan.fp16_flag and not plan.strongly_typed and plan.precision == "fp16"


def test_without_the_fp16_flag_the_network_is_strongly_typed_at_the_onnxs_precision():
    plan = plan_precision(TRT11, "fp16")
    assert not plan.fp16_flag and plan.strongly_typed and plan.precision == "tf32"
    assert "removed in TensorRT 11" in plan.note and "export an FP16 model" in plan.note
    assert plan_precision(TRT11, "fp16", model_is_fp16=True).precision == "fp16"
    assert plan_precision(SimpleNamespace(), "fp16").precision == "fp32"


def test_fp32_clears_tf32_where_the_flag_exists():
    assert plan_precision(TRT10, "fp32").clear_tf32 and plan_precision(TRT10, "fp32").precision == "fp32"
    assert not plan_precision(SimpleNamespace(BuilderFlag=SimpleNamespace()), "fp32").clear_tf32
    with pytest.raises(ValueError, match="precision must be 'fp16' or 'fp32'"):
        plan_precision(TRT10, "int8")


class _FakeTensorRT:
    """Records the calls build_serialized_engine makes, in the shape of the tensorrt namespace."""

    def __init__(self, flags, parse_ok=True, accept_cache=True, build_ok=True):
        self.calls = []
        self.BuilderFlag, self.NetworkDefinitionCreationFlag = flags.BuilderFlag, flags.NetworkDefinitionCreationFlag
        self.MemoryPoolType = SimpleNamespace(WORKSPACE="WORKSPACE")
        self.Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda s, level: None})
        fake = self

        class Cache:
            def __init__(self, data):
                self.data = data

            def serialize(self):
                return self.data + b"+new timings"

        class Config:
            def set_memory_pool_limit(self, pool, size):
                fake.calls.append(("pool", pool, size))

            def create_timing_cache(self, data):
                fake.calls.append(("create_timing_cache", bytes(data)))
                self.cache = Cache(bytes(data))
                return self.cache

            def set_timing_cache(self, cache, ignore_mismatch):
                fake.calls.append(("set_timing_cache", cache.data, ignore_mismatch))
                return accept_cache or not cache.data

            def get_timing_cache(self):
                return self.cache

            def set_flag(self, flag):
                fake.calls.append(("set_flag", flag))

            def clear_flag(self, flag):
                fake.calls.append(("clear_flag", flag))

        class Builder:
            def __init__(self, logger):
                pass

            def create_network(self, flags):
                fake.calls.append(("create_network", flags))
                return "network"

            def create_builder_config(self):
                return Config()

            def build_serialized_network(self, network, config):
                fake.calls.append(("build", network))
                return b"engine bytes" if build_ok else None

        class Parser:
            num_errors = 2 if not parse_ok else 0

            def __init__(self, network, logger):
                pass

            def parse(self, data):
                fake.calls.append(("parse", data))
                return parse_ok

            def get_error(self, i):
                return SimpleNamespace(desc=lambda: f"node {i}: unsupported")

        self.Builder, self.OnnxParser = Builder, Parser


def test_a_tensorrt_10_build_sets_fp16_and_feeds_and_returns_the_timing_cache():
    trt = _FakeTensorRT(TRT10)
    engine, timing = build_serialized_engine(trt, b"onnx", plan_precision(trt, "fp16"), b"old timings", 1 << 28)
    assert (engine, timing) == (b"engine bytes", b"old timings+new timings")
    assert trt.calls == [("create_network", 0), ("parse", b"onnx"), ("pool", "WORKSPACE", 1 << 28),
                         ("create_timing_cache", b"old timings"), ("set_timing_cache", b"old timings", False),
                         ("set_flag", "FP16"), ("build", "network")]


def test_a_tensorrt_11_build_is_strongly_typed_with_no_precision_flag():
    trt = _FakeTensorRT(TRT11)
    build_serialized_engine(trt, b"onnx", plan_precision(trt, "fp16"))
    assert ("create_network", 1) in trt.calls
    assert not [c for c in trt.calls if c[0] in ("set_flag", "clear_flag")]


def test_a_timing_cache_tensorrt_rejects_is_replaced_by_a_new_one():
    trt = _FakeTensorRT(TRT10, accept_cache=False)
    _, timing = build_serialized_engine(trt, b"onnx", plan_precision(trt, "fp32"), b"stale")
    assert timing == b"+new timings"
    assert ("clear_flag", "TF32") in trt.calls


def test_parser_and_builder_failures_are_reported():
    trt = _FakeTensorRT(TRT10, parse_ok=False)
    with pytest.raises(ModelFileError, match="ONNX parser refused the model: node 0: unsupported; node 1: unsupported"):
        build_serialized_engine(trt, b"onnx", plan_precision(trt, "fp16"))
    trt = _FakeTensorRT(TRT10, build_ok=False)
    with pytest.raises(BackendFailure, match="could not build an engine"):
        build_serialized_engine(trt, b"onnx", plan_precision(trt, "fp16"))


def test_availability_says_what_to_install(monkeypatch):
    monkeypatch.setattr(trt_b, "installed", lambda name: False)
    ok, reason = tensorrt_available()
    assert not ok and reason.startswith("tensorrt is not installed; pip install tensorrt")
    monkeypatch.setattr(trt_b, "installed", lambda name: True)
    monkeypatch.setattr(trt_b, "torch_cuda", lambda: Availability(False, "torch 2.13.0 (CUDA 13.0) sees no CUDA GPU"))
    assert tensorrt_available() == (False, "tensorrt keeps its buffers in torch CUDA tensors: "
                                           "torch 2.13.0 (CUDA 13.0) sees no CUDA GPU")
    monkeypatch.setattr(trt_b, "torch_cuda", lambda: Availability(True, "torch on NVIDIA H200"))
    monkeypatch.setitem(sys.modules, "tensorrt", SimpleNamespace(__version__="8.6.1"))
    ok, reason = tensorrt_available()
    assert not ok and "tensorrt 8.6.1 is older than 10" in reason
    monkeypatch.setitem(sys.modules, "tensorrt", SimpleNamespace(__version__="10.3.0"))
    assert tensorrt_available() == (True, "tensorrt 10.3.0; torch on NVIDIA H200")


@pytest.mark.skipif(tensorrt_available().ok, reason="TensorRT can run here")
def test_loading_without_tensorrt_is_refused_with_the_install_hint(tiny_model, tmp_path):
    with pytest.raises(BackendUnavailableError, match="tensorrt: .*pip install tensorrt|tensorrt: tensorrt keeps"):
        TensorRTBackend(cache_dir=tmp_path).load(tiny_model)
    assert "tensorrt" not in sys.modules
    assert not list(tmp_path.iterdir())
