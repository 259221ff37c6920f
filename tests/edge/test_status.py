"""The status table a crew reads once a second."""

from edge.cli.status import format_status_table
from sensors.stats import ClockFit, StatsSnapshot


def _snap(name, clock=None, drops=()):
    return StatsSnapshot(name=name, rate_hz=99.5, received=100, decoded=98, dropped=sum(n for _, n in drops),
                         drop_reasons=tuple(drops), clock=clock, last_host_ns=1)


def test_table_has_every_sensor_and_the_drop_reasons():
    text = format_status_table(
        [(_snap("freed", ClockFit(1.25, 50.04, 0.2, 100), (("checksum", 1), ("lost", 1))), "telemetry", 100.0),
         (_snap("lidar"), "lidar", 753.5)],
        elapsed_s=3.0,
    )
    lines = text.splitlines()
    assert lines[0].strip() == "--     3.0 s --"
    assert lines[1].split()[:3] == ["sensor", "kind", "rate"]
    assert "freed" in lines[2] and "2 (checksum 1, lost 1)" in lines[2]
    assert "+1.250" in lines[2] and "+50.0" in lines[2] and "0.200" in lines[2]
    assert lines[3].split()[-3:] == ["-", "-", "-"]
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns


def test_sensor_on_its_own_epoch_shows_no_meaningless_offset():
    text = format_status_table([(_snap("timecode", ClockFit(1.7e12, 10.0, 0.0, 50)), "timecode", 24.0)])
    assert "own epoch" in text and "1700000000000" not in text
