"""PointCloud <-> PointCloud2: Onset's XYZIRT layout both ways, vendor layouts (ouster-ros ``t``,
velodyne_pointcloud ``time``), padding and endianness, and malformed clouds refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("rclpy", reason="needs rclpy and the ROS 2 message packages (pip install -e '.[ros]')")

from sensor_msgs.msg import PointCloud2, PointField  # noqa: E402

from edge.ros import messages as conv  # noqa: E402
from edge.ros.clouds import MAX_POINT_OFFSET_S  # noqa: E402
from config.ros import LidarTimeField  # noqa: E402
from edge.ros.errors import CloudLayoutError, RosMessageError  # noqa: E402
from sensors.vocabulary import NS_PER_S, PointCloud, Stamp  # noqa: E402

pytestmark = pytest.mark.ros

STAMP_NS = 1_700_000_000_123_456_789
TYPES = {"i1": 1, "u1": 2, "i2": 3, "u2": 4, "i4": 5, "u4": 6, "f4": 7, "f8": 8}


def _sweep(n: int, seed: int) -> tuple:
    """A sweep of ``n`` points with returns (no zero or NaN xyz) and master times after STAMP_NS."""
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(-30.0, 30.0, (n, 3)).astype(np.float32)
    xyz[:, 0] = np.where(np.abs(xyz[:, 0]) < 0.1, 1.0, xyz[:, 0])
    cloud = PointCloud(
        xyz_m=xyz,
        intensity=rng.uniform(0, 255, n).astype(np.float32),
        ring=rng.integers(0, 16, n).astype(np.uint16),
        t_ns=np.sort(rng.integers(0, 100_000_000, n)).astype(np.int64),
        stamp=Stamp(sensor_ns=0, host_ns=0),
    )
    point_t_ns = STAMP_NS + np.sort(rng.integers(-5_000_000, 100_000_000, n)).astype(np.int64)
    return cloud, point_t_ns


def _float32_ns_tolerance(offset_ns: np.ndarray) -> np.ndarray:
    """Error bound of an offset stored as float32 seconds: half an ulp, plus the ns rounding."""
    return np.spacing(np.abs(offset_ns / NS_PER_S).astype(np.float32)).astype(np.float64) * NS_PER_S / 2 + 1


@given(st.integers(0, 300), st.integers(0, 2**32 - 1))
def test_roundtrip_onset_layout(n, seed):
    cloud, point_t_ns = _sweep(n, seed)
    msg = conv.cloud_to_msg(cloud, STAMP_NS, point_t_ns, "lidar")
    assert (msg.point_step, msg.row_step, msg.height, msg.width) == (22, 22 * n, 1, n)
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ("x", 0, PointField.FLOAT32, 1),
        ("y", 4, PointField.FLOAT32, 1),
        ("z", 8, PointField.FLOAT32, 1),
        ("intensity", 12, PointField.FLOAT32, 1),
        ("ring", 16, PointField.UINT16, 1),
        ("time", 18, PointField.FLOAT32, 1),
    ]
    back = conv.cloud_from_msg(msg, LidarTimeField.TIME, recv_ns=99)
    np.testing.assert_array_equal(back.xyz_m, cloud.xyz_m)
    np.testing.assert_array_equal(back.intensity, cloud.intensity)
    np.testing.assert_array_equal(back.ring, cloud.ring)
    assert back.xyz_m.dtype == np.float32 and back.ring.dtype == np.uint16 and back.t_ns.dtype == np.int64
    assert np.all(np.abs(back.t_ns - point_t_ns) <= _float32_ns_tolerance(point_t_ns - STAMP_NS))
    assert back.stamp == Stamp(sensor_ns=STAMP_NS, host_ns=99) and back.frame_id == "lidar"


def test_time_field_is_relative_seconds_from_the_header_stamp():
    cloud, _ = _sweep(3, 0)
    msg = conv.cloud_to_msg(cloud, STAMP_NS, STAMP_NS + np.array([0, 50_000_000, -1_000_000]), "lidar")
    times = np.frombuffer(msg.data, np.uint8).view(conv.CLOUD_DTYPE)["time"]
    np.testing.assert_array_equal(times, np.array([0.0, 0.05, -0.001], np.float32))


def test_cloud_to_msg_checks_point_times():
    cloud, point_t_ns = _sweep(4, 1)
    with pytest.raises(ValueError):
        conv.cloud_to_msg(cloud, STAMP_NS, point_t_ns[:3], "lidar")
    with pytest.raises(ValueError):
        conv.cloud_to_msg(cloud, STAMP_NS, point_t_ns.astype(np.float64), "lidar")


# -- vendor layouts ----------------------------------------------------------------------------


def _message(points: np.ndarray, height: int, width: int, fields, bigendian=False, row_pad=0, frame="os_sensor"):
    """A PointCloud2 of a structured array laid out as given, rows padded by ``row_pad`` bytes."""
    step = points.dtype.itemsize
    rows = points.view(np.uint8).reshape(height, width * step)
    data = np.concatenate([rows, np.full((height, row_pad), 0xAB, np.uint8)], axis=1)
    return PointCloud2(
        header=conv.header(STAMP_NS, frame),
        height=height,
        width=width,
        fields=[PointField(name=n, offset=o, datatype=TYPES[k], count=1) for n, o, k in fields],
        is_bigendian=bigendian,
        point_step=step,
        row_step=width * step + row_pad,
        data=conv.bytes_into_msg(data),
        is_dense=False,
    )


def _ouster(beams: int, columns: int, ring_kind: str = "u2", seed: int = 3):
    """ouster-ros' organized cloud: 48-byte points, ``t`` uint32 ns per column, no-return points at 0,0,0."""
    layout = [
        ("x", 0, "f4"), ("y", 4, "f4"), ("z", 8, "f4"), ("intensity", 16, "f4"), ("t", 20, "u4"),
        ("reflectivity", 24, "u2"), ("ring", 26, ring_kind), ("ambient", 28, "u2"), ("range", 32, "u4"),
    ]  # fmt: skip
    dtype = np.dtype({"names": [n for n, _, _ in layout], "formats": ["<" + k for *_, k in layout],
                      "offsets": [o for _, o, _ in layout], "itemsize": 48})  # fmt: skip
    rng = np.random.default_rng(seed)
    points = np.zeros((beams, columns), dtype=dtype)
    for axis in "xyz":
        points[axis] = rng.uniform(1.0, 20.0, (beams, columns))
    points["intensity"] = rng.uniform(0, 3000, (beams, columns))
    points["t"] = (np.arange(columns) * 48_828)[None, :]  # 1024 columns over 50 ms
    points["ring"] = np.arange(beams)[:, None]
    points["range"] = 12345
    no_return = rng.random((beams, columns)) < 0.2
    for axis in "xyz":
        points[axis][no_return] = 0.0
    return _message(points.reshape(-1), beams, columns, layout), points, no_return


@pytest.mark.parametrize("ring_kind", ["u2", "u1"], ids=["ring-uint16", "ring-uint8 (older ouster)"])
def test_ouster_layout_t_uint32_ns(ring_kind):
    msg, points, no_return = _ouster(16, 64, ring_kind)
    cloud = conv.cloud_from_msg(msg, "t", recv_ns=5)
    keep = ~no_return.reshape(-1)
    flat = points.reshape(-1)
    assert len(cloud) == keep.sum() and cloud.frame_id == "os_sensor"
    np.testing.assert_array_equal(cloud.xyz_m, np.stack([flat["x"], flat["y"], flat["z"]], 1)[keep])
    np.testing.assert_array_equal(cloud.t_ns, STAMP_NS + flat["t"][keep].astype(np.int64))  # exact: integer ns
    np.testing.assert_array_equal(cloud.ring, flat["ring"][keep])
    np.testing.assert_array_equal(cloud.intensity, flat["intensity"][keep])


def _velodyne(n: int, seed: int = 5, *, step: int = 22, bigendian: bool = False, row_pad: int = 0, height: int = 1):
    """velodyne_pointcloud's XYZIRT (22 bytes; wider and big-endian variants), some NaN (no return) points."""
    e = ">" if bigendian else "<"
    layout = [("x", 0, "f4"), ("y", 4, "f4"), ("z", 8, "f4"), ("intensity", 12, "f4"), ("ring", 16, "u2"), ("time", 18, "f4")]
    dtype = np.dtype({"names": [n for n, _, _ in layout], "formats": [e + k for *_, k in layout],
                      "offsets": [o for _, o, _ in layout], "itemsize": step})  # fmt: skip
    rng = np.random.default_rng(seed)
    points = np.zeros(n, dtype=dtype)
    for axis in "xyz":
        points[axis] = rng.uniform(-50.0, 50.0, n)
    points["intensity"] = rng.uniform(0, 255, n)
    points["ring"] = rng.integers(0, 32, n)
    points["time"] = np.sort(rng.uniform(0.0, 0.1, n))
    points["x"][rng.random(n) < 0.1] = np.nan
    return _message(points, height, n // height, layout, bigendian, row_pad, "velodyne"), points


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"step": 32}, {"step": 32, "bigendian": True}, {"row_pad": 6, "height": 4}, {"bigendian": True, "row_pad": 3, "height": 2}],
    ids=["packed-22", "padded-32", "big-endian", "row-padding", "big-endian-row-padding"],
)
def test_velodyne_layout_time_float32_s(kwargs):
    msg, points = _velodyne(400, **kwargs)
    cloud = conv.cloud_from_msg(msg, LidarTimeField.TIME, recv_ns=5)
    keep = np.isfinite(points["x"])
    assert len(cloud) == keep.sum() and cloud.frame_id == "velodyne"
    np.testing.assert_array_equal(cloud.xyz_m, np.stack([points["x"], points["y"], points["z"]], 1)[keep].astype(np.float32))
    expected_t = STAMP_NS + np.rint(points["time"][keep].astype(np.float64) * NS_PER_S).astype(np.int64)
    np.testing.assert_array_equal(cloud.t_ns, expected_t)
    np.testing.assert_array_equal(cloud.ring, points["ring"][keep])


def test_optional_fields_default_to_zero():
    layout = [("x", 0, "f8"), ("y", 8, "f8"), ("z", 16, "f8"), ("time", 24, "f4")]
    dtype = np.dtype({"names": ["x", "y", "z", "time"], "formats": ["<f8", "<f8", "<f8", "<f4"], "offsets": [0, 8, 16, 24], "itemsize": 28})
    points = np.zeros(3, dtype=dtype)
    points["x"], points["time"] = [1.0, 2.0, 3.0], [0.0, 0.01, 0.02]
    cloud = conv.cloud_from_msg(_message(points, 1, 3, layout), "time", 0)
    np.testing.assert_array_equal(cloud.xyz_m[:, 0], [1.0, 2.0, 3.0])
    assert not cloud.intensity.any() and not cloud.ring.any() and cloud.xyz_m.dtype == np.float32


# -- malformed clouds --------------------------------------------------------------------------


def _field(msg, name) -> PointField:
    return next(f for f in msg.fields if f.name == name)


MALFORMED = [
    ("missing x", lambda m: setattr(m, "fields", [f for f in m.fields if f.name != "x"]), "no 'x'"),
    ("wrong time field", lambda m: setattr(m, "fields", [f for f in m.fields if f.name != "time"]), "no 'time'"),
    ("time is int", lambda m: setattr(_field(m, "time"), "datatype", PointField.UINT32), "'time' is u4"),
    ("x is int", lambda m: setattr(_field(m, "x"), "datatype", PointField.INT32), "'x' is i4"),
    ("count 3", lambda m: setattr(_field(m, "x"), "count", 3), "count 3"),
    ("count 0", lambda m: setattr(_field(m, "y"), "count", 0), "count 0"),
    ("offset overruns", lambda m: setattr(_field(m, "time"), "offset", 20), "overruns"),
    ("unknown datatype", lambda m: setattr(_field(m, "ring"), "datatype", 9), "unknown datatype"),
    ("duplicate field", lambda m: m.fields.append(PointField(name="x", offset=4, datatype=7, count=1)), "twice"),
    ("short data", lambda m: setattr(m, "data", m.data[:-1]), "expected row_step"),
    ("long data", lambda m: m.data.extend(b"\x00" * 22), "expected row_step"),
    ("row_step short", lambda m: setattr(m, "row_step", m.row_step - 1), "row_step"),
    ("point_step 0", lambda m: setattr(m, "point_step", 0), "point_step"),
    ("width lies", lambda m: setattr(m, "width", m.width + 1), "row_step"),
    ("empty frame", lambda m: setattr(m.header, "frame_id", ""), "frame_id"),
    ("bad nanosec", lambda m: setattr(m.header.stamp, "nanosec", 2_000_000_000), "nanosec"),
]


@pytest.mark.parametrize("mutate, match", [(m, r) for _, m, r in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_malformed_clouds_are_refused(mutate, match):
    cloud, point_t_ns = _sweep(10, 2)
    msg = conv.cloud_to_msg(cloud, STAMP_NS, point_t_ns, "lidar")
    mutate(msg)
    with pytest.raises(RosMessageError, match=match):
        conv.cloud_from_msg(msg, "time", 0)


def test_malformed_values_are_refused():
    msg, points = _velodyne(50)
    points["time"][7] = np.nan
    with pytest.raises(CloudLayoutError, match="not finite"):
        conv.cloud_from_msg(_message(points, 1, 50, [(f.name, f.offset, "f4" if f.datatype == 7 else "u2") for f in msg.fields]), "time", 0)
    points["time"][7] = MAX_POINT_OFFSET_S * 2
    with pytest.raises(CloudLayoutError, match="beyond"):
        conv.cloud_from_msg(_message(points, 1, 50, [(f.name, f.offset, "f4" if f.datatype == 7 else "u2") for f in msg.fields]), "time", 0)
    ouster, _, _ = _ouster(4, 8)
    with pytest.raises(CloudLayoutError, match="no 'time'"):
        conv.cloud_from_msg(ouster, "time", 0)  # an ouster cloud read with the velodyne setting
    with pytest.raises(CloudLayoutError, match="exceeds"):
        conv.cloud_from_msg(ouster, "t", 0, max_points=31)


def test_negative_ring_is_refused():
    layout = [("x", 0, "f4"), ("y", 4, "f4"), ("z", 8, "f4"), ("ring", 12, "i1"), ("time", 13, "f4")]
    dtype = np.dtype({"names": [n for n, _, _ in layout], "formats": ["<" + k for *_, k in layout], "offsets": [o for _, o, _ in layout], "itemsize": 17})
    points = np.ones(2, dtype=dtype)
    points["ring"] = [3, -1]
    with pytest.raises(CloudLayoutError, match="ring"):
        conv.cloud_from_msg(_message(points, 1, 2, layout), "time", 0)


FIELD_NAMES = st.sampled_from(["x", "y", "z", "intensity", "ring", "time", "t", "other"])


@given(
    fields=st.lists(st.tuples(FIELD_NAMES, st.integers(0, 40), st.integers(0, 10), st.integers(0, 3)), max_size=8),
    height=st.integers(0, 5),
    width=st.integers(0, 40),
    point_step=st.integers(0, 48),
    row_extra=st.integers(-3, 3),
    data_extra=st.integers(-3, 3),
    bigendian=st.booleans(),
    time_field=st.sampled_from(list(LidarTimeField)),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_clouds_either_decode_or_raise_cloud_layout_error(
    fields, height, width, point_step, row_extra, data_extra, bigendian, time_field, seed
):
    row_step = max(width * point_step + row_extra, 0)
    size = max(row_step * height + data_extra, 0)
    msg = PointCloud2(
        header=conv.header(STAMP_NS, "lidar"),
        height=height,
        width=width,
        fields=[PointField(name=n, offset=o, datatype=d, count=c) for n, o, d, c in fields],
        is_bigendian=bigendian,
        point_step=point_step,
        row_step=row_step,
        data=conv.bytes_into_msg(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)),
    )
    try:
        cloud = conv.cloud_from_msg(msg, time_field, 0)
    except CloudLayoutError:
        return
    n = len(cloud)
    assert cloud.xyz_m.shape == (n, 3) and cloud.t_ns.shape == cloud.ring.shape == cloud.intensity.shape == (n,)
    assert np.isfinite(cloud.xyz_m).all()


@given(
    kind=st.sampled_from(["ouster", "velodyne"]),
    extra_step=st.integers(0, 9),
    row_pad=st.integers(0, 9),
    height=st.integers(1, 4),
    width=st.integers(0, 30),
    bigendian=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_bytes_in_valid_vendor_layouts_decode_or_raise(kind, extra_step, row_pad, height, width, bigendian, seed):
    if kind == "ouster":
        layout, step, time_field = [("x", 0, "f4"), ("y", 4, "f4"), ("z", 8, "f4"), ("intensity", 16, "f4"), ("t", 20, "u4"), ("ring", 26, "u2")], 48, "t"
    else:
        layout, step, time_field = [("x", 0, "f4"), ("y", 4, "f4"), ("z", 8, "f4"), ("intensity", 12, "f4"), ("ring", 16, "u2"), ("time", 18, "f4")], 22, "time"
    step += extra_step
    data = np.random.default_rng(seed).integers(0, 256, (height, width * step + row_pad), dtype=np.uint8)
    msg = PointCloud2(
        header=conv.header(STAMP_NS, "lidar"),
        height=height,
        width=width,
        fields=[PointField(name=n, offset=o, datatype=TYPES[k], count=1) for n, o, k in layout],
        is_bigendian=bigendian,
        point_step=step,
        row_step=width * step + row_pad,
        data=conv.bytes_into_msg(data),
    )
    try:
        cloud = conv.cloud_from_msg(msg, time_field, 0)
    except CloudLayoutError as err:
        assert "time" in str(err) or "intensity" in str(err)  # what random bytes can break in a valid layout
        return
    assert len(cloud) <= height * width and np.isfinite(cloud.xyz_m).all()
    assert cloud.t_ns.shape == cloud.ring.shape == (len(cloud),)
    assert np.all(np.abs(cloud.t_ns - STAMP_NS) <= MAX_POINT_OFFSET_S * NS_PER_S)
