"""Narrow errors of the LiDAR family.

Every packet error carries a short ``reason`` (``"length"``, ``"flag"``, ...) that the driver
counts its drops under, and a message naming the offending value.
"""

from __future__ import annotations

from sensors.errors import DecodeError, SensorError

__all__ = [
    "LidarError",
    "PacketEncodeError",
    "LidarPacketError",
    "PacketLengthError",
    "BlockFlagError",
    "UnknownProductError",
    "ReturnModeError",
    "AzimuthError",
    "TimestampError",
    "ModelMismatchError",
    "DecoderFailure",
]


class LidarError(SensorError):
    """Root of the LiDAR family's errors."""


class PacketEncodeError(LidarError, ValueError):
    """Arguments that cannot make a Velodyne data packet (wrong shapes, timestamp past the hour)."""


class LidarPacketError(LidarError, DecodeError):
    """Bytes that are not a valid Velodyne data packet; ``reason`` names the drop counter."""

    reason = "packet"


class PacketLengthError(LidarPacketError):
    reason = "length"

    def __init__(self, length: int, expected: int) -> None:
        self.length, self.expected = length, expected
        super().__init__(f"Velodyne data packet must be {expected} bytes, got {length}")


class BlockFlagError(LidarPacketError):
    reason = "flag"

    def __init__(self, block: int, flag: int) -> None:
        self.block, self.flag = block, flag
        super().__init__(f"data block {block} starts with flag 0x{flag:04X}, expected 0xFFEE")


class UnknownProductError(LidarPacketError):
    reason = "product"

    def __init__(self, product_id: int, known: str) -> None:
        self.product_id = product_id
        super().__init__(f"unknown Velodyne product id 0x{product_id:02X}; this driver reads {known}")


class ReturnModeError(LidarPacketError):
    reason = "return_mode"

    def __init__(self, mode: int) -> None:
        self.mode = mode
        super().__init__(
            f"unknown return mode 0x{mode:02X}; expected 0x37 (strongest), 0x38 (last) or 0x39 (dual)"
        )


class AzimuthError(LidarPacketError):
    reason = "azimuth"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class TimestampError(LidarPacketError):
    reason = "timestamp"

    def __init__(self, timestamp_us: int) -> None:
        self.timestamp_us = timestamp_us
        super().__init__(
            f"timestamp {timestamp_us} us is not a time past the top of the hour (must be < 3600000000)"
        )


class ModelMismatchError(LidarPacketError):
    reason = "model"

    def __init__(self, got: str, expected: str) -> None:
        self.got, self.expected = got, expected
        super().__init__(f"packet comes from a {got}, but this driver is configured for a {expected}")


class DecoderFailure(LidarPacketError):
    """velodyne-decoder refused a packet that passed validation."""

    reason = "decoder"
