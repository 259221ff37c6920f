"""Rig profiles: the shipped ones load; bad YAML names the file, the key and what was expected."""

import pytest

from config import (
    DEFAULT_PROFILE,
    ProfileNotFoundError,
    ProfileSyntaxError,
    ProfileValueError,
    RigConfig,
    list_profiles,
    load_profile,
)
from sensors.vocabulary import FrameRate


def test_default_profile_is_sim_stage():
    assert DEFAULT_PROFILE == "sim-stage"
    rig = load_profile()
    assert rig.simulated
    assert rig.camera.frame_rate is FrameRate.FPS_24
    assert (rig.camera.width_px, rig.camera.height_px) == (640, 360)
    assert rig.lidars[0].model.value == "VLP-16" and rig.lidars[0].rotation_hz == 10.0
    assert rig.telemetry[0].rate_hz == 100.0
    assert all(s.host == "127.0.0.1" for s in [*rig.lidars, *rig.telemetry])


@pytest.mark.parametrize("name", list_profiles())
def test_every_shipped_profile_loads(name):
    assert isinstance(load_profile(name), RigConfig)


def test_unknown_profile_lists_choices():
    with pytest.raises(ProfileNotFoundError, match="sim-stage"):
        load_profile("no-such-stage")


def test_missing_file(tmp_path):
    with pytest.raises(ProfileNotFoundError, match="does not exist"):
        load_profile(tmp_path / "absent.yaml")


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("camera:\n  fps: [24\n")
    with pytest.raises(ProfileSyntaxError) as info:
        load_profile(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_top_level_must_be_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ProfileSyntaxError, match="mapping"):
        load_profile(path)


def test_bad_values_name_file_key_and_expectation(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "camera:\n  fps: '23'\n  width_px: ten\nlidars:\n  - port: 70000\n    modle: VLP-16\n"
        "timecode:\n  rate: 29.97DF\n"
    )
    with pytest.raises(ProfileValueError) as info:
        load_profile(path)
    text = str(info.value)
    assert str(path) in text
    assert "camera.fps" in text and "23.976" in text
    assert "camera.width_px" in text and "integer" in text
    assert "lidars[0].port" in text and "65535" in text
    assert "lidars[0].modle" in text  # a typo is an error, not silently ignored
    keys = [k for k, _, _ in info.value.problems]
    assert "timecode.rate" not in keys


def test_duplicate_ports_rejected(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("lidars:\n  - {name: a, port: 2368}\n  - {name: b, port: 2368}\n")
    with pytest.raises(ProfileValueError, match="both use UDP 127.0.0.1:2368"):
        load_profile(path)


def test_shot_keyframes_must_increase(tmp_path):
    path = tmp_path / "shot.yaml"
    path.write_text("stage:\n  shot:\n    - {t_s: 2.0}\n    - {t_s: 1.0}\n")
    with pytest.raises(ProfileValueError, match="stage.shot"):
        load_profile(path)


def test_lens_table_checked(tmp_path):
    path = tmp_path / "lens.yaml"
    path.write_text("telemetry:\n  - lens: {zoom_raw: [0, 10, 5], focal_length_mm: [18, 30, 40]}\n")
    with pytest.raises(ProfileValueError, match="increase"):
        load_profile(path)


def test_a_high_rate_project_reads_ltc_at_half_rate(tmp_path):
    path = tmp_path / "hfr.yaml"
    path.write_text("camera:\n  fps: '59.94DF'\ntimecode:\n  rate: '59.94DF'\n  start: '01:00:00;00'\n")
    rig = load_profile(path)
    from sensors.timecode.ltc import ltc_rate

    assert rig.timecode.rate == "59.94DF" and ltc_rate(rig.timecode.frame_rate).label == "29.97DF"


# -- real-rig profiles carry no simulator conventions ------------------------------------------

#: Settings only the simulated stage reads: the stage itself, the renderer's vignetting, the
#: timecode a sim run starts at.
_SIM_ONLY_PATHS = (("stage",), ("camera", "intrinsics", "vignetting"), ("timecode", "start"))
#: A simulated sensor's clock: its offset, drift and jitter against the master clock.
_SIM_CLOCK_KEYS = ("offset_ns", "drift_ppm", "jitter_ns")


def _sim_only_settings(data) -> list:
    """Key paths of ``data`` (a profile's YAML mapping) that only the simulator needs."""
    found = []
    if data.get("simulated", True) is not False:
        found.append("simulated")
    for path in _SIM_ONLY_PATHS:
        node = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            found.append(".".join(path))
    camera = data.get("camera") or {}
    if camera.get("source", "appsrc") == "appsrc":  # fed only by a stage in the node's process
        found.append("camera.source")

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "clock" and isinstance(value, dict):
                    found.extend(f"{where}{key}.{k}" for k in _SIM_CLOCK_KEYS if k in value)
                if key == "spare_is_counter" and value is True:
                    found.append(f"{where}{key}")
                walk(value, f"{where}{key}.")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where[:-1]}[{i}].")

    walk(data, "")
    return found


def _real_profiles() -> list:
    return [name for name in list_profiles() if not load_profile(name).simulated]


def test_the_real_rig_profiles_are_checked():
    assert {"stage-a-real", "stage-b-ouster-ros"} <= set(_real_profiles())
    # The check finds what the simulated stage's profile needs.
    import yaml

    from config.loader import resolve_profile

    sim = _sim_only_settings(yaml.safe_load(resolve_profile("sim-stage").read_text()))
    assert {"simulated", "stage", "camera.intrinsics.vignetting", "timecode.start",
            "telemetry[0].spare_is_counter", "lidars[0].clock.drift_ppm"} <= set(sim)


@pytest.mark.parametrize("name", _real_profiles())
def test_a_real_rig_profile_has_no_simulator_settings(name):
    import yaml

    from config.loader import resolve_profile

    data = yaml.safe_load(resolve_profile(name).read_text())
    assert _sim_only_settings(data) == []
    rig = load_profile(name)
    for sensor in [rig.camera, *rig.lidars, *rig.telemetry, rig.timecode]:
        clock = sensor.clock
        assert (clock.offset_ns, clock.drift_ppm, clock.jitter_ns) == (0, 0.0, 0), sensor.name
    assert not any(t.spare_is_counter for t in rig.telemetry)


@pytest.mark.parametrize("text, message", [
    ("preview: {port: 8765}\n", "the preview and the control API both use TCP port 8765"),
    ("foxglove: {port: 8080}\n", "the Foxglove server and the preview both use TCP port 8080"),
])
def test_the_box_s_servers_cannot_share_a_port(tmp_path, text, message):
    path = tmp_path / "clash.yaml"
    path.write_text(text)
    with pytest.raises(ProfileValueError, match=message):
        load_profile(path)


def test_a_disabled_foxglove_server_takes_no_port(tmp_path):
    path = tmp_path / "off.yaml"
    path.write_text("foxglove: {enabled: false, port: 8080}\n")
    assert load_profile(path).foxglove.enabled is False
