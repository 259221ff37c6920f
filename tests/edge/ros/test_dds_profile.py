"""The Fast DDS interface allowlist: the profile's XML, how it is put in place, and the sockets a
real participant then holds."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET

import pytest

from config.ros import RosConfig
from edge.ros.dds_profile import PROFILE_ENV, apply_dds_profile, fastdds_profile_xml

NS = {"f": "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"}
LOOPBACK = {"127.0.0.1", "::1"}


def _tree(interfaces) -> ET.Element:
    return ET.fromstring(fastdds_profile_xml(interfaces))


def test_loopback_profile_allows_loopback_only_and_discovers_by_unicast() -> None:
    root = _tree(["127.0.0.1", "::1"])
    descriptors = {d.findtext("f:transport_id", namespaces=NS): d for d in root.iterfind(".//f:transport_descriptor", NS)}
    assert {d.findtext("f:type", namespaces=NS) for d in descriptors.values()} == {"UDPv4", "UDPv6", "SHM"}
    allowed = {a.text for a in root.iterfind(".//f:interfaceWhiteList/f:address", NS)}
    assert allowed == LOOPBACK
    participant = root.find("f:profiles/f:participant", NS)
    assert participant.get("is_default_profile") == "true"
    rtps = participant.find("f:rtps", NS)
    assert rtps.findtext("f:useBuiltinTransports", namespaces=NS) == "false"
    used = [t.text for t in rtps.iterfind("f:userTransports/f:transport_id", NS)]
    assert sorted(used) == sorted(descriptors)  # every transport used is defined, and only those
    builtin = rtps.find("f:builtin", NS)
    assert builtin.find("f:metatrafficMulticastLocatorList", NS) is None  # no multicast group joined
    for listing in ("f:metatrafficUnicastLocatorList", "f:initialPeersList"):
        assert {a.text for a in builtin.iterfind(f"{listing}//f:address", NS)} == LOOPBACK


def test_stage_network_profile_keeps_multicast_discovery_on_the_allowed_interfaces() -> None:
    root = _tree(["10.0.0.5", "127.0.0.1"])
    assert {a.text for a in root.iterfind(".//f:interfaceWhiteList/f:address", NS)} == {"10.0.0.5", "127.0.0.1"}
    assert root.find(".//f:builtin", NS) is None


def test_config_validates_interfaces() -> None:
    assert RosConfig().interfaces == ("127.0.0.1",)
    assert RosConfig(interfaces=["::1", "127.0.0.1", "::1"]).interfaces == ("::1", "127.0.0.1")
    assert RosConfig(interfaces=None).interfaces is None
    for bad in (["eth0"], [], ["300.1.1.1"]):
        with pytest.raises(ValueError):
            RosConfig(interfaces=bad)
    with pytest.raises(ValueError):
        fastdds_profile_xml([])


def test_apply_points_fast_dds_at_the_profile_and_restores(tmp_path) -> None:
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DISTRO": "humble"}
    profile = apply_dds_profile(["127.0.0.1"], env=env, directory=tmp_path)
    try:
        assert profile.applied and os.path.exists(profile.path)
        assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == profile.path
        # Kilted's rmw would add a transport on every interface in LOCALHOST mode: the profile decides.
        assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
        with open(profile.path) as handle:
            assert handle.read() == fastdds_profile_xml(["127.0.0.1"])
        again = apply_dds_profile(["127.0.0.1"], env=env, directory=tmp_path)  # a second node in the process shares it
        assert not again.applied and "already" in again.reason
    finally:
        path = profile.path
        profile.restore()
    assert env == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DISTRO": "humble"}
    # One file per distinct profile, named by its content: the next node reuses it, none piles up.
    reused = apply_dds_profile(["127.0.0.1"], env=env, directory=tmp_path)
    other = apply_dds_profile(["::1"], env={}, directory=tmp_path)
    assert reused.path == path and other.path != path and len(list(tmp_path.glob("fastdds-*.xml"))) == 2
    reused.restore()
    other.restore()


@pytest.mark.parametrize("env, why", [
    ({"FASTRTPS_DEFAULT_PROFILES_FILE": "/etc/mine.xml"}, "user's own"),
    ({"FASTDDS_DEFAULT_PROFILES_FILE": "/etc/mine.xml"}, "user's own"),
    ({"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}, "RMW_IMPLEMENTATION"),
])
def test_apply_leaves_the_users_choice_alone(env: dict, why: str) -> None:
    before = dict(env)
    profile = apply_dds_profile(["127.0.0.1"], env=env)
    assert not profile.applied and why in profile.reason and env == before
    assert not apply_dds_profile(None, env={}).applied


def _bound() -> set:
    """(address, port, socket type) of every inet socket this process holds."""
    psutil = pytest.importorskip("psutil")
    return {(c.laddr.ip, c.laddr.port, c.type) for c in psutil.Process().net_connections(kind="inet") if c.laddr}


def _participant_binds(interfaces, conn) -> None:
    """In a fresh interpreter (Fast DDS reads its XML profile once per process, at the first
    participant): start the node's participant, report every address it bound and the environment."""
    from config import load_profile
    from edge.ros import OnsetRosNode

    rig = load_profile("sim-stage")
    before = _bound()
    ros = rig.ros_config().model_copy(update={"interfaces": interfaces})
    with OnsetRosNode(ros, rig):
        time.sleep(0.5)  # sampled after the first discovery announcements, as the e2e test samples
        bound = {address for address, _, _ in _bound() - before}
    conn.send((bound, [key for key in PROFILE_ENV if os.environ.get(key)]))


@pytest.mark.ros
@pytest.mark.parametrize("interfaces", [("127.0.0.1",), None])
def test_a_real_participant_binds_only_what_the_config_names(interfaces) -> None:
    """With the allowlist every DDS socket is on loopback; without it (None) DDS binds 0.0.0.0,
    which is what this check must catch."""
    import multiprocessing

    pytest.importorskip("rclpy", reason="needs rclpy (pip install -e '.[ros]')")
    pytest.importorskip("psutil")
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_participant_binds, args=(interfaces, child), daemon=True)
    process.start()
    try:
        assert parent.poll(60), "the participant's process reported nothing"
        bound, env_left = parent.recv()
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    assert bound, "the participant bound no socket at all"
    if interfaces is None:
        assert bound - LOOPBACK, f"without the allowlist DDS was expected on every interface, got {bound}"
    else:
        assert bound <= LOOPBACK, f"DDS bound {sorted(bound - LOOPBACK)} outside loopback"
    assert not env_left  # the environment is as it was
