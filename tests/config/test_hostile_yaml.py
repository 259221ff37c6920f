"""Whatever bytes a profile holds, loading it raises a ConfigError or returns a valid rig."""

from hypothesis import given, settings
from hypothesis import strategies as st

from config import ConfigError, RigConfig, load_profile, load_rig

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
rig_keys = st.sampled_from(["name", "simulated", "stage", "camera", "lidars", "telemetry", "timecode", "bogus"])


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("y") / "p.yaml"
    path.write_bytes(data)
    try:
        rig = load_profile(path)
    except ConfigError as err:
        assert str(path) in str(err)
    else:
        assert isinstance(rig, RigConfig)


@settings(max_examples=300)
@given(st.dictionaries(rig_keys, yaml_values, max_size=5))
def test_random_structures(data):
    try:
        rig = load_rig(data, "fuzz.yaml")
    except ConfigError as err:
        assert "fuzz.yaml" in str(err)
    else:
        assert isinstance(rig, RigConfig)
