"""Bags round-trip every recorded type through independent readers, in the format ROS 2 Humble reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge.recorder import BagCompression, QosPreset, RecorderConfig, TakeRecorder
from edge.recorder.typestore import RECORDED_MSGTYPES

from .messages import BASE_NS, READERS, TOPICS, make_message, plain, read_raw_mcap

N_PER_TYPE = 12


def _record_all(recorder: TakeRecorder, msgtypes, n: int = N_PER_TYPE) -> Path:
    """Write ``n`` messages of each type as the node does (CDR bytes), interleaved; return the take folder."""
    info = recorder.start("12", "3", 4)
    t = BASE_NS
    for i in range(n):
        for msgtype in msgtypes:
            data = recorder.types.serialize(make_message(recorder.types, msgtype, i), msgtype)
            assert recorder.write(TOPICS[msgtype], msgtype, data, t)
            t += 1_000_000
    done = recorder.stop()
    assert done.status == "complete" and done.message_count == n * len(msgtypes)
    return info.path


def _expected(recorder: TakeRecorder, msgtypes, n: int = N_PER_TYPE):
    out, t = [], BASE_NS
    for i in range(n):
        for msgtype in msgtypes:
            out.append((TOPICS[msgtype], msgtype, t, plain(make_message(recorder.types, msgtype, i))))
            t += 1_000_000
    return out


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("msgtype", RECORDED_MSGTYPES)
def test_every_type_round_trips_through_each_reader(recorder, msgtype, reader):
    take = _record_all(recorder, [msgtype])
    assert READERS[reader](take) == _expected(recorder, [msgtype])


@pytest.mark.parametrize("compression", list(BagCompression))
def test_mixed_take_round_trips_with_every_compression(takes_dir, rig, clock, compression):
    config = RecorderConfig(takes_dir=takes_dir, chunk_size_bytes=8192, min_free_bytes=0, compression=compression)
    with TakeRecorder(config, rig, clock_ns=clock) as recorder:
        take = _record_all(recorder, RECORDED_MSGTYPES, n=6)
        expected = _expected(recorder, RECORDED_MSGTYPES, n=6)
    for reader in READERS.values():
        assert reader(take) == expected
    from mcap.reader import make_reader

    with open(take / "bag" / "bag_0.mcap", "rb") as f:
        summary = make_reader(f).get_summary()
    want = "" if compression is BagCompression.NONE else compression.value
    assert summary.chunk_indexes and {c.compression for c in summary.chunk_indexes} == {want}


def test_write_message_serializes_rosbags_objects_with_the_humble_typestore(recorder):
    info = recorder.start("1", "1", 1)
    msgs = [make_message(recorder.types, "tf2_msgs/msg/TFMessage", i) for i in range(5)]
    for i, msg in enumerate(msgs):
        assert recorder.write_message("/tf", "tf2_msgs/msg/TFMessage", msg, log_time_ns=BASE_NS + i)
    recorder.stop()
    got = READERS["rosbags"](info.path)
    assert [m for _, _, _, m in got] == [plain(m) for m in msgs]
    assert {(topic, msgtype) for topic, msgtype, _, _ in got} == {("/tf", "tf2_msgs/msg/TFMessage")}


# What ROS 2 Humble's rosbag2 (0.15.x, metadata_io.cpp) reads from a version 5 metadata.yaml, with the
# type it converts each node to. Later versions add keys Humble would not read; v9's QoS list it cannot.
HUMBLE_V5_KEYS = {"version", "storage_identifier", "duration", "starting_time", "message_count",
                  "topics_with_message_count", "compression_format", "compression_mode",
                  "relative_file_paths", "files"}
HUMBLE_QOS_INT_KEYS = ("history", "depth", "reliability", "durability", "liveliness")
HUMBLE_QOS_DURATIONS = ("deadline", "lifespan", "liveliness_lease_duration")


def _check_humble_qos(text):
    assert isinstance(text, str), "Humble reads offered_qos_profiles as a string (a list is v9+)"
    profiles = yaml.safe_load(text)
    assert isinstance(profiles, list) and profiles
    for profile in profiles:
        for key in HUMBLE_QOS_INT_KEYS:
            assert type(profile[key]) is int, key
        for key in HUMBLE_QOS_DURATIONS:
            assert type(profile[key]["sec"]) is int and type(profile[key]["nsec"]) is int
    return profiles


def test_metadata_is_version_5_in_the_layout_humble_reads(recorder):
    recorder.declare_topic(TOPICS["sensor_msgs/msg/CameraInfo"], QosPreset.LATCHED)
    recorder.declare_topic(TOPICS["sensor_msgs/msg/Image"], QosPreset.SENSOR_DATA)
    take = _record_all(recorder, RECORDED_MSGTYPES, n=3)
    bag = take / "bag"
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert set(meta) == HUMBLE_V5_KEYS
    assert meta["version"] == 5 and meta["storage_identifier"] == "mcap"
    assert meta["compression_format"] == "" and meta["compression_mode"] == ""
    assert type(meta["duration"]["nanoseconds"]) is int
    assert meta["starting_time"]["nanoseconds_since_epoch"] == BASE_NS
    assert meta["message_count"] == 3 * len(RECORDED_MSGTYPES)
    assert [(bag / p).is_file() for p in meta["relative_file_paths"]] == [True]
    assert meta["files"][0]["path"] == meta["relative_file_paths"][0]
    assert meta["files"][0]["message_count"] == meta["message_count"]
    qos = {}
    for entry in meta["topics_with_message_count"]:
        topic = entry["topic_metadata"]
        assert topic["serialization_format"] == "cdr" and entry["message_count"] == 3
        qos[topic["name"]] = _check_humble_qos(topic["offered_qos_profiles"])[0]
    assert sorted(qos) == sorted(TOPICS.values())
    # rmw enums: reliability 1 reliable / 2 best effort; durability 1 transient local / 2 volatile.
    info_qos = qos[TOPICS["sensor_msgs/msg/CameraInfo"]]
    assert (info_qos["reliability"], info_qos["durability"]) == (1, 1)
    assert qos[TOPICS["sensor_msgs/msg/Image"]]["reliability"] == 2
    assert qos["/tf"]["reliability"] == 1 and qos["/tf"]["durability"] == 2


def test_mcap_file_is_ros2_profile_with_ros2msg_schemas_cdr_channels_and_a_summary(recorder):
    take = _record_all(recorder, RECORDED_MSGTYPES, n=3)
    from mcap.reader import make_reader

    with open(take / "bag" / "bag_0.mcap", "rb") as f:
        reader = make_reader(f)
        header, summary = reader.get_header(), reader.get_summary()
    assert header.profile == "ros2"
    assert {s.name for s in summary.schemas.values()} == set(RECORDED_MSGTYPES)
    assert {s.encoding for s in summary.schemas.values()} == {"ros2msg"}
    assert {c.message_encoding for c in summary.channels.values()} == {"cdr"}
    for channel in summary.channels.values():
        _check_humble_qos(channel.metadata["offered_qos_profiles"])
    assert summary.statistics.message_count == 3 * len(RECORDED_MSGTYPES)
    assert all(c.message_index_offsets for c in summary.chunk_indexes)
    raw = read_raw_mcap(take / "bag" / "bag_0.mcap")
    assert [t for _, t, _ in raw] == sorted(t for _, t, _ in raw)


def test_rosbags_parses_the_recorded_qos(recorder):
    from rosbags.highlevel import AnyReader
    from rosbags.interfaces import QosDurability, QosReliability

    recorder.declare_topic("/onset/camera/camera_info", QosPreset.LATCHED)
    take = _record_all(recorder, ["sensor_msgs/msg/CameraInfo", "sensor_msgs/msg/TimeReference"], n=2)
    with AnyReader([take / "bag"]) as reader:
        qos = {c.topic: c.ext.offered_qos_profiles[0] for c in reader.connections}
    assert qos["/onset/camera/camera_info"].durability == QosDurability.TRANSIENT_LOCAL
    assert qos["/onset/timecode"].reliability == QosReliability.RELIABLE


_RCLPY_TYPES = {
    "sensor_msgs/msg/Image": ("sensor_msgs.msg", "Image"),
    "sensor_msgs/msg/CameraInfo": ("sensor_msgs.msg", "CameraInfo"),
    "sensor_msgs/msg/PointCloud2": ("sensor_msgs.msg", "PointCloud2"),
    "sensor_msgs/msg/TimeReference": ("sensor_msgs.msg", "TimeReference"),
    "geometry_msgs/msg/TransformStamped": ("geometry_msgs.msg", "TransformStamped"),
    "diagnostic_msgs/msg/DiagnosticArray": ("diagnostic_msgs.msg", "DiagnosticArray"),
}


@pytest.mark.ros
@pytest.mark.parametrize("msgtype", sorted(_RCLPY_TYPES))
def test_rclpy_serialized_bytes_round_trip_and_rclpy_reads_the_bag(recorder, msgtype):
    """What a raw rclpy subscription hands the recorder comes back identical, and rclpy decodes it."""
    import importlib

    from rclpy.serialization import deserialize_message, serialize_message

    module, name = _RCLPY_TYPES[msgtype]
    cls = getattr(importlib.import_module(module), name)
    # Build each rclpy message from the rosbags sample, through its CDR bytes.
    samples = [deserialize_message(recorder.types.serialize(make_message(recorder.types, msgtype, i), msgtype), cls)
               for i in range(4)]
    info = recorder.start("5", "1", 1)
    for i, msg in enumerate(samples):
        assert recorder.write(TOPICS[msgtype], msgtype, serialize_message(msg), BASE_NS + i)
    recorder.stop()
    raw = read_raw_mcap(info.path / "bag" / "bag_0.mcap")
    assert [plain(deserialize_message(data, cls)) for _, _, data in raw] == [plain(m) for m in samples]
    assert [m for _, _, _, m in READERS["rosbags"](info.path)] == [plain(m) for m in samples]
