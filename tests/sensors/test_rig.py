"""Opening a rig's drivers is all or nothing, and the failure names the sensor."""

import socket

import pytest

from config import load_rig
from sensors.errors import SensorOpenError
from sensors.rig import SensorRig
from sensors.ports import free_loopback_port


def _free_port() -> int:
    return free_loopback_port()


def _rig(lidar_port: int, freed_port: int):
    return load_rig({"lidars": [{"name": "lidar", "port": lidar_port}],
                     "telemetry": [{"name": "crane", "port": freed_port}]})


def test_opens_every_driver_and_closes_them():
    rig = _rig(_free_port(), _free_port())
    with SensorRig(rig, include_camera=False) as sensors:
        assert [h.name for h in sensors.handles] == ["lidar", "crane"]
        assert sensors.get("crane").family == "telemetry"
        assert sensors.get("lidar").expected_rate_hz == pytest.approx(753.5, abs=0.5)
    assert sensors.handles == []


def test_failure_rolls_back_and_names_the_sensor():
    lidar_port = _free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        held = holder.getsockname()[1]
        sensors = SensorRig(_rig(lidar_port, held), include_camera=False)
        with pytest.raises(SensorOpenError, match=rf"telemetry sensor 'crane'.*127.0.0.1:{held}"):
            sensors.start()
        assert sensors.handles == []
    # The LiDAR port opened first was released again by the rollback.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", lidar_port))


def test_unknown_sensor_name():
    with SensorRig(_rig(_free_port(), _free_port()), include_camera=False) as sensors:
        with pytest.raises(KeyError, match="crane"):
            sensors.get("nope")
