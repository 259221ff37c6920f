"""The Velodyne VLP-16 / VLP-32C data packet, laser tables and firing timing (pure functions).

Packet layout (VLP-16 and VLP-32C user manuals, "Data Packet Format"), 1206 bytes of UDP payload:

* 12 data blocks of 100 bytes: flag bytes ``FF EE``, azimuth uint16 little-endian in 0.01 degree,
  then 32 channel records of distance uint16 LE (one count = ``distance_resolution_m``) and
  calibrated reflectivity uint8; a distance of 0 means no return;
* a 4-byte timestamp: microseconds past the top of the hour on the sensor's clock, the time of
  the packet's first firing;
* 2 factory bytes: return mode (0x37 strongest, 0x38 last, 0x39 dual) and product id
  (0x22 VLP-16, 0x28 VLP-32C).

Timing: lasers fire every 2.304 us; a firing sequence lasts 55.296 us (24 slots). A VLP-16 fires
its 16 lasers one after another and fits two sequences per block, so a block's records are
lasers 0-15 of sequence 0, then lasers 0-15 of sequence 1 (whose azimuth a decoder interpolates).
A VLP-32C fires its lasers in pairs (0 and 1 together, then 2 and 3, ...), one 32-laser sequence
per block, each laser with its own azimuth offset.

Laser elevations, vertical origin offsets, VLP-32C azimuth offsets and distance resolutions are
exactly velodyne-decoder's built-in calibrations (``Calibration.default_calibs``), so what the
simulator emits and what the driver decodes agree; the tests hold the two tables against each
other. Note that velodyne-decoder counts VLP-32C distances in 4 mm, VLP-16 distances in 2 mm.

Azimuths follow Velodyne: degrees clockwise seen from above, 0 along the sensor's +x.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Tuple, Union

import numpy as np

from config.models import LidarModel
from sensors.lidar.errors import (
    AzimuthError,
    BlockFlagError,
    PacketEncodeError,
    PacketLengthError,
    ReturnModeError,
    TimestampError,
    UnknownProductError,
)
from sensors.lidar.types import LaserTable, PacketHeader

__all__ = [
    "PACKET_BYTES",
    "BLOCKS_PER_PACKET",
    "RECORDS_PER_BLOCK",
    "FIRING_INTERVAL_NS",
    "SEQUENCE_NS",
    "RETURN_STRONGEST",
    "RETURN_LAST",
    "RETURN_DUAL",
    "PRODUCT_IDS",
    "MIN_RANGE_M",
    "US_PER_HOUR",
    "laser_table",
    "packet_period_ns",
    "last_firing_offset_ns",
    "firing_schedule",
    "block_azimuths_deg",
    "laser_rays",
    "quantize_distances",
    "encode_packets",
    "encode_packet",
    "parse_packet_header",
    "timestamp_us_of",
    "resolve_hour_ns",
]

PACKET_BYTES = 1206
BLOCKS_PER_PACKET = 12
RECORDS_PER_BLOCK = 32
FIRING_INTERVAL_NS = 2304  # 2.304 us between firings
SEQUENCE_NS = 24 * FIRING_INTERVAL_NS  # 55.296 us: one firing sequence, recharge included
RETURN_STRONGEST, RETURN_LAST, RETURN_DUAL = 0x37, 0x38, 0x39
PRODUCT_IDS = {LidarModel.VLP16: 0x22, LidarModel.VLP32C: 0x28}
#: Closest return the sensor reports; nearer hits are sent as "no return" (a blind zone).
MIN_RANGE_M = 0.2
US_PER_HOUR = 3_600_000_000
_NS_PER_HOUR = US_PER_HOUR * 1000
_BLOCK_FLAG_LE = 0xEEFF  # bytes FF EE read as a little-endian uint16
#: Largest head step between two blocks of one packet (0.01 deg): 20 Hz moves a VLP-16 block
#: 0.8 deg and a dual-return pair 1.6 deg; more than this is a corrupt azimuth, not a fast head.
_MAX_BLOCK_STEP_CDEG = 500

_RECORD_DTYPE = np.dtype([("distance", "<u2"), ("reflectivity", "u1")])
_BLOCK_DTYPE = np.dtype([("flag", "<u2"), ("azimuth", "<u2"), ("records", _RECORD_DTYPE, (RECORDS_PER_BLOCK,))])
_PACKET_DTYPE = np.dtype(
    [("blocks", _BLOCK_DTYPE, (BLOCKS_PER_PACKET,)), ("timestamp", "<u4"), ("return_mode", "u1"), ("product", "u1")]
)
assert _PACKET_DTYPE.itemsize == PACKET_BYTES
#: Each block's flag and azimuth (skipping its 96 bytes of records), then timestamp, mode, product.
_HEADER_STRUCT = struct.Struct("<" + "HH96x" * BLOCKS_PER_PACKET + "IBB")
assert _HEADER_STRUCT.size == PACKET_BYTES

# velodyne-decoder's default calibrations (radians and metres, as it stores them).
_VLP16_ELEVATION_RAD = (
    -0.261799395, 0.0174532924, -0.226892799, 0.052359879, -0.191986218, 0.0872664601, -0.157079637,
    0.122173049, -0.122173049, 0.157079637, -0.0872664601, 0.191986218, -0.052359879, 0.226892799,
    -0.0174532924, 0.261799395,
)
_VLP16_VERTICAL_OFFSET_M = (
    0.0112297507, -0.000731541775, 0.00967568625, -0.00219641021, 0.00814647879, -0.00366664981,
    0.00663789222, -0.00514590088, 0.00514590088, -0.00663789222, 0.00366664981, -0.00814647879,
    0.00219641021, -0.00967568625, 0.000731541775, -0.0112297507,
)
_VLP32C_ELEVATION_RAD = (
    -0.436332315, -0.0174532924, -0.0290946402, -0.27295205, -0.19739674, 0.0, -0.0116413459,
    -0.154339477, -0.126606181, 0.00581194647, -0.00581194647, -0.107302837, -0.0930784121,
    0.0232652389, 0.0116413459, -0.0698131695, -0.0814545155, 0.0290946402, 0.0174532924,
    -0.0640012249, -0.0581718236, 0.0581718236, 0.0407185294, -0.0465479307, -0.052359879,
    0.122173049, 0.0814545155, -0.0407185294, -0.0349065848, 0.261799395, 0.18034488, -0.0232652389,
)
_VLP32C_ROT_CORRECTION_RAD = (
    -0.0244346093, 0.0733038262, -0.0244346093, 0.0244346093, -0.0244346093, 0.0244346093,
    -0.0733038262, 0.0244346093, -0.0244346093, 0.0733038262, -0.0244346093, 0.0244346093,
    -0.0733038262, 0.0244346093, -0.0733038262, 0.0244346093, -0.0244346093, 0.0733038262,
    -0.0244346093, 0.0733038262, -0.0733038262, 0.0244346093, -0.0244346093, 0.0244346093,
    -0.0244346093, 0.0244346093, -0.0244346093, 0.0733038262, -0.0733038262, 0.0244346093,
    -0.0244346093, 0.0244346093,
)
_VLP32C_VERTICAL_OFFSET_M = (
    0.0197714455, 0.000740094751, 0.00123396097, 0.0118694091, 0.00848005153, 0.0, 0.000493615342,
    0.00659645395, 0.00539696915, -0.000246429321, 0.000246429321, 0.00456718216, 0.00395796122,
    -0.00098662416, -0.000493615342, 0.00296489685, 0.00346132973, -0.00123396097, -0.000740094751,
    0.00271736318, 0.00246927119, -0.00246927119, -0.00172742037, 0.00197505881, 0.00222209003,
    -0.00520606525, -0.00346132973, 0.00172742037, 0.00148064061, -0.0113610458, -0.00773061579,
    0.00098662416,
)

ModelLike = Union[LidarModel, str]


def _model(model: ModelLike) -> LidarModel:
    return model if isinstance(model, LidarModel) else LidarModel(model)


@lru_cache(maxsize=None)
def laser_table(model: ModelLike) -> LaserTable:
    """The :class:`LaserTable` of a model (``LidarModel`` or its label, e.g. ``"VLP-16"``)."""
    model = _model(model)
    if model is LidarModel.VLP16:
        elevation = np.degrees(np.array(_VLP16_ELEVATION_RAD))
        # The decoder turns the azimuth by -rot_correction; as an offset added to the head azimuth:
        offset = np.zeros(16)
        vertical, resolution, sequences = np.array(_VLP16_VERTICAL_OFFSET_M), 0.002, 2
    else:
        elevation = np.degrees(np.array(_VLP32C_ELEVATION_RAD))
        offset = -np.degrees(np.array(_VLP32C_ROT_CORRECTION_RAD))
        vertical, resolution, sequences = np.array(_VLP32C_VERTICAL_OFFSET_M), 0.004, 1
    ring = np.empty(elevation.size, dtype=np.int64)
    ring[np.argsort(elevation, kind="stable")] = np.arange(elevation.size)
    for arr in (elevation, offset, vertical, ring):
        arr.setflags(write=False)
    return LaserTable(model, PRODUCT_IDS[model], elevation, offset, vertical, ring, resolution, sequences)


def _record_layout(model: LidarModel) -> Tuple[np.ndarray, np.ndarray]:
    """(t_offset_ns, laser) per channel record (12, 32), time since the packet's first firing."""
    block = np.arange(BLOCKS_PER_PACKET)[:, None]
    record = np.arange(RECORDS_PER_BLOCK)[None, :]
    if model is LidarModel.VLP16:
        laser = np.broadcast_to(record % 16, (BLOCKS_PER_PACKET, RECORDS_PER_BLOCK))
        t_offset = (2 * block + record // 16) * SEQUENCE_NS + (record % 16) * FIRING_INTERVAL_NS
    else:
        laser = np.broadcast_to(record, (BLOCKS_PER_PACKET, RECORDS_PER_BLOCK))
        t_offset = block * SEQUENCE_NS + (record // 2) * FIRING_INTERVAL_NS
    return t_offset.astype(np.int64), np.ascontiguousarray(laser, dtype=np.int64)


_LAYOUTS = {m: _record_layout(m) for m in LidarModel}


def packet_period_ns(model: ModelLike) -> int:
    """Time from one packet's first firing to the next's: 1327.104 us (VLP-16), 663.552 us (VLP-32C)."""
    return BLOCKS_PER_PACKET * laser_table(model).sequences_per_block * SEQUENCE_NS


def last_firing_offset_ns(model: ModelLike) -> int:
    """Time from a packet's first firing to its last one (when the packet can leave)."""
    return int(_LAYOUTS[_model(model)][0].max())


def firing_schedule(
    model: ModelLike, rotation_hz: float, packet_index
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When and where each channel record of packet ``packet_index`` fires.

    Returns ``(t_offset_ns, azimuth_deg, laser)``, each shaped ``(..., 12, 32)`` like the
    packet's records (``packet_index`` may be an int or an array): the firing time in ns after
    the packet's first firing (int64), the ray's azimuth in degrees [0, 360) with the head at 0
    when packet 0's first laser fired and spinning at ``rotation_hz``, and the laser id.
    """
    table = laser_table(model)
    t_offset, laser = _LAYOUTS[table.model]
    p = np.asarray(packet_index, dtype=np.int64)[..., None, None]
    since_ns = p * packet_period_ns(table.model) + t_offset
    turns = np.mod(since_ns * (float(rotation_hz) / 1e9), 1.0)
    azimuth = np.mod(turns * 360.0 + table.azimuth_offset_deg[laser], 360.0)
    shape = azimuth.shape
    return np.broadcast_to(t_offset, shape).copy(), azimuth, np.broadcast_to(laser, shape).copy()


def block_azimuths_deg(model: ModelLike, rotation_hz: float, packet_index) -> np.ndarray:
    """Head azimuth (degrees, [0, 360)) at each block's first firing, shaped ``(..., 12)``."""
    table = laser_table(model)
    block_ns = np.arange(BLOCKS_PER_PACKET, dtype=np.int64) * table.sequences_per_block * SEQUENCE_NS
    p = np.asarray(packet_index, dtype=np.int64)[..., None]
    since_ns = p * packet_period_ns(table.model) + block_ns
    return np.mod(np.mod(since_ns * (float(rotation_hz) / 1e9), 1.0) * 360.0, 360.0)


def laser_rays(model: ModelLike, laser: np.ndarray, azimuth_deg: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Origins (N,3) m and unit directions (N,3) in the lidar frame of lasers fired at azimuths.

    A laser's origin sits ``vertical_offset_m`` above the sensor's centre; a return at distance d
    is the point ``origin + d * direction``, as velodyne-decoder reconstructs it.
    """
    table = laser_table(model)
    laser = np.asarray(laser, dtype=np.int64).reshape(-1)
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64).reshape(-1))
    el = np.radians(table.elevation_deg[laser])
    cos_el = np.cos(el)
    directions = np.stack([cos_el * np.cos(az), -cos_el * np.sin(az), np.sin(el)], axis=1)
    origins = np.zeros_like(directions)
    origins[:, 2] = table.vertical_offset_m[laser]
    return origins, directions


def quantize_distances(model: ModelLike, distances_m: np.ndarray) -> np.ndarray:
    """Distance counts (uint16) of distances in metres; 0 (no return) for NaN, inf, <= 0 or too far."""
    resolution = laser_table(model).distance_resolution_m
    d = np.asarray(distances_m, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        counts = np.rint(d / resolution)
        ok = np.isfinite(counts) & (counts >= 1) & (counts <= 65535)
    return np.where(ok, counts, 0).astype(np.uint16)


def encode_packets(
    model: ModelLike,
    block_azimuths,
    distances_m,
    reflectivity,
    timestamps_us,
    return_mode: int = RETURN_STRONGEST,
) -> list:
    """P data packets at once: ``block_azimuths`` (P,12) degrees, ``distances_m`` and
    ``reflectivity`` (P,12,32) per channel record, ``timestamps_us`` (P,) past the hour."""
    table = laser_table(model)
    az = np.asarray(block_azimuths, dtype=np.float64)
    dist = np.asarray(distances_m, dtype=np.float64)
    refl = np.asarray(reflectivity)
    ts = np.asarray(timestamps_us, dtype=np.int64).reshape(-1)
    count = ts.shape[0]
    if az.shape != (count, BLOCKS_PER_PACKET) or dist.shape != (count, BLOCKS_PER_PACKET, RECORDS_PER_BLOCK):
        raise PacketEncodeError(
            f"need block azimuths ({count}, 12) and distances ({count}, 12, 32), got {az.shape} and {dist.shape}"
        )
    if refl.shape != dist.shape:
        raise PacketEncodeError(f"reflectivity must be shaped like distances {dist.shape}, got {refl.shape}")
    if not np.all(np.isfinite(az)):
        raise PacketEncodeError("block azimuths must be finite")
    if np.any((ts < 0) | (ts >= US_PER_HOUR)):
        raise PacketEncodeError(
            f"timestamps must be microseconds past the hour in [0, {US_PER_HOUR}), got {ts.min()}..{ts.max()}"
        )
    if return_mode not in (RETURN_STRONGEST, RETURN_LAST, RETURN_DUAL):
        raise PacketEncodeError(f"unknown return mode 0x{return_mode:02X}")
    out = np.zeros(count, dtype=_PACKET_DTYPE)
    out["blocks"]["flag"] = _BLOCK_FLAG_LE
    out["blocks"]["azimuth"] = np.mod(np.rint(az * 100.0).astype(np.int64), 36000)
    out["blocks"]["records"]["distance"] = quantize_distances(table.model, dist)
    out["blocks"]["records"]["reflectivity"] = np.clip(np.nan_to_num(refl.astype(np.float64)), 0, 255).astype(np.uint8)
    out["timestamp"] = ts
    out["return_mode"] = return_mode
    out["product"] = table.product_id
    raw = out.tobytes()
    return [raw[i * PACKET_BYTES:(i + 1) * PACKET_BYTES] for i in range(count)]


def encode_packet(model: ModelLike, block_azimuths, distances_m, reflectivity, timestamp_us: int) -> bytes:
    """One 1206-byte data packet (strongest return).

    ``block_azimuths`` (12,) head azimuth of each block in degrees (sent in 0.01 degree);
    ``distances_m`` (12,32) per channel record in metres, quantized to the model's distance
    resolution, out-of-range values (NaN, inf, <= 0, beyond 65535 counts) sent as 0 = no return;
    ``reflectivity`` (12,32) 0..255; ``timestamp_us`` microseconds past the hour of the first firing.
    """
    return encode_packets(
        model,
        np.asarray(block_azimuths, dtype=np.float64)[None],
        np.asarray(distances_m, dtype=np.float64)[None],
        np.asarray(reflectivity)[None],
        [int(timestamp_us)],
    )[0]


_PRODUCTS_BY_ID = {pid: model for model, pid in PRODUCT_IDS.items()}


def parse_packet_header(payload: Union[bytes, bytearray, memoryview]) -> PacketHeader:
    """Validate a data packet's framing and read its header fields.

    Raises :class:`~sensors.lidar.errors.PacketLengthError` (not 1206 bytes),
    :class:`BlockFlagError` (a block not starting with FF EE), :class:`UnknownProductError`,
    :class:`ReturnModeError`, :class:`TimestampError` (not below one hour) and
    :class:`AzimuthError` (an azimuth >= 36000, or blocks not advancing as a spinning head does).
    """
    length = len(payload)
    if length != PACKET_BYTES:
        raise PacketLengthError(length, PACKET_BYTES)
    # One C call for the 12 flags and azimuths and the trailer; the checks are on 12 ints.
    fields = _HEADER_STRUCT.unpack_from(payload)
    flags, azimuth = fields[0:24:2], fields[1:24:2]
    timestamp_us, mode, product = fields[24], fields[25], fields[26]
    for block, flag in enumerate(flags):
        if flag != _BLOCK_FLAG_LE:
            raise BlockFlagError(block, ((flag & 0xFF) << 8) | (flag >> 8))
    if product not in _PRODUCTS_BY_ID:
        known = ", ".join(f"{m.value} (0x{p:02X})" for m, p in PRODUCT_IDS.items())
        raise UnknownProductError(product, known)
    if mode not in (RETURN_STRONGEST, RETURN_LAST, RETURN_DUAL):
        raise ReturnModeError(mode)
    if timestamp_us >= US_PER_HOUR:
        raise TimestampError(timestamp_us)
    for block, value in enumerate(azimuth):
        if value >= 36000:
            raise AzimuthError(f"block {block} azimuth {value} is not below 36000 (0.01 deg)")
    for i in range(BLOCKS_PER_PACKET - 1):
        if (azimuth[i + 1] - azimuth[i]) % 36000 > _MAX_BLOCK_STEP_CDEG:
            raise AzimuthError(
                f"block azimuths {azimuth[i]} -> {azimuth[i + 1]} (0.01 deg) do not advance like a spinning head"
            )
    return PacketHeader(_PRODUCTS_BY_ID[product], mode, timestamp_us, np.array(azimuth, dtype=np.float64) / 100.0)


def timestamp_us_of(sensor_ns):
    """The packet timestamp (us past the top of the hour, rounded) of sensor-clock time(s) in ns."""
    t = np.asarray(sensor_ns, dtype=np.int64)
    out = np.mod((t + 500) // 1000, US_PER_HOUR)
    return int(out) if np.ndim(out) == 0 else out


def resolve_hour_ns(timestamp_us: int, reference_ns: int) -> int:
    """Absolute ns of a past-the-hour timestamp: the candidate hour nearest ``reference_ns``.

    Works across the top of the hour (a stamp of 3599.9 s read at 0.1 s past the hour belongs
    to the previous hour) as long as the sensor's clock is within half an hour of the reference.
    """
    ref = int(reference_ns)
    t = ref - ref % _NS_PER_HOUR + int(timestamp_us) * 1000
    # The candidate hours are t - 1 h, t and t + 1 h; t is within an hour of ref, so one step does.
    if t - ref >= _NS_PER_HOUR // 2:
        return t - _NS_PER_HOUR
    if ref - t > _NS_PER_HOUR // 2:
        return t + _NS_PER_HOUR
    return t
