"""A Fast DDS XML profile that keeps the node's DDS participant on the configured interfaces.

Fast DDS (the default ROS 2 middleware, and the one in the PyPI wheels) binds its UDP sockets on
0.0.0.0 unless told otherwise, even with ``ROS_LOCALHOST_ONLY=1`` or
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``. A participant profile restricts it:

* its own UDPv4 (and, for IPv6 addresses, UDPv6) transport with an ``interfaceWhiteList`` of the
  configured addresses, plus shared memory (no sockets) for large samples on this host, and
  ``useBuiltinTransports`` false, so no other transport is created;
* with loopback addresses only, discovery by unicast to 127.0.0.1 (``initialPeersList`` and
  ``metatrafficUnicastLocatorList`` without a port: Fast DDS fills in the domain's well-known
  ports), so no multicast group is joined either. With any other address, discovery keeps the
  standard multicast on the allowed interfaces only.

Only elements that Fast DDS 2.6 (ROS 2 Humble) and Fast DDS 3.x (the Kilted wheels) both read are
used (``transport_descriptors``, ``interfaceWhiteList/address``, ``userTransports``,
``useBuiltinTransports``, ``builtin/initialPeersList``, ``builtin/metatrafficUnicastLocatorList``).

:func:`apply_dds_profile` writes the profile (``~/.onset/fastdds-<hash>.xml``) and points ``FASTDDS_DEFAULT_PROFILES_FILE`` (3.x)
and ``FASTRTPS_DEFAULT_PROFILES_FILE`` (2.x) at it before rclpy creates the participant, unless
the user named a profile file of their own, or chose another middleware (``RMW_IMPLEMENTATION``),
in which case it changes nothing and says why. Kilted's rmw in ``ROS_AUTOMATIC_DISCOVERY_RANGE=
LOCALHOST`` mode adds a UDP transport of its own that binds every interface, so while the
profile is applied that variable reads ``SUBNET``: the profile's own discovery settings are what
keep discovery on the configured addresses (loopback by default). Humble reads
``ROS_LOCALHOST_ONLY`` only, whose transport (127.0.0.1) is added beside the profile's.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import ipaddress
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, MutableMapping, Optional, Sequence
from xml.sax.saxutils import escape

__all__ = ["PROFILE_ENV", "PROFILE_DIR", "DdsProfile", "fastdds_profile_xml", "apply_dds_profile"]

_log = logging.getLogger(__name__)

#: The variables Fast DDS reads for its default profiles file: 3.x first, then 2.x.
PROFILE_ENV = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")
_RANGE_ENV = "ROS_AUTOMATIC_DISCOVERY_RANGE"
_FASTDDS_RMWS = ("", "rmw_fastrtps_cpp", "rmw_fastrtps_dynamic_cpp")
_FASTDDS_2_DISTROS = ("humble", "iron", "jazzy")


def _profile_env(env: MutableMapping[str, str]) -> tuple:
    """The variables to set: both, except that Fast DDS 3 (which warns about the 2.x name) gets its own only."""
    try:
        major = int(importlib.metadata.version("ros-fastdds").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        major = 2 if env.get("ROS_DISTRO", "").lower() in _FASTDDS_2_DISTROS else 0
    return PROFILE_ENV[:1] if major >= 3 else PROFILE_ENV


#: Where profiles are written: one file per distinct profile, named by its content, shared by the
#: nodes that use it and kept (a node that is killed leaves nothing new behind).
PROFILE_DIR = Path("~/.onset")

#: Profiles this process wrote and still uses (a second node in the process shares the first's).
_WRITTEN: set = set()


def _locators(kind: str, addresses: Sequence[str]) -> str:
    return "".join(f"<locator><{kind}><address>{escape(a)}</address></{kind}></locator>" for a in addresses)


def fastdds_profile_xml(interfaces: Sequence[str], profile_name: str = "onset_edge") -> str:
    """The XML of a default participant profile that uses only ``interfaces`` (IP addresses).

    ValueError for an empty list or something that is not an IP address.
    """
    if not interfaces:
        raise ValueError("a DDS interface allowlist needs at least one address")
    parsed = [ipaddress.ip_address(str(a)) for a in interfaces]
    v4 = [str(a) for a in parsed if a.version == 4]
    v6 = [str(a) for a in parsed if a.version == 6]
    descriptors, transports = [], []
    for kind, addresses in (("UDPv4", v4), ("UDPv6", v6)):
        if addresses:
            allow = "".join(f"<address>{escape(a)}</address>" for a in addresses)
            descriptors.append(
                f"      <transport_descriptor>\n"
                f"        <transport_id>onset_{kind.lower()}</transport_id>\n"
                f"        <type>{kind}</type>\n"
                f"        <interfaceWhiteList>{allow}</interfaceWhiteList>\n"
                f"      </transport_descriptor>\n")
            transports.append(f"<transport_id>onset_{kind.lower()}</transport_id>")
    descriptors.append("      <transport_descriptor>\n        <transport_id>onset_shm</transport_id>\n"
                       "        <type>SHM</type>\n      </transport_descriptor>\n")
    transports.append("<transport_id>onset_shm</transport_id>")
    builtin = ""
    if all(a.is_loopback for a in parsed):
        # Unicast discovery on loopback: no multicast group joined, no well-known port beyond lo.
        peers = _locators("udpv4", v4) + _locators("udpv6", v6)
        builtin = (f"        <builtin>\n"
                   f"          <metatrafficUnicastLocatorList>{peers}</metatrafficUnicastLocatorList>\n"
                   f"          <initialPeersList>{peers}</initialPeersList>\n"
                   f"        </builtin>\n")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!-- Written by Onset (edge/ros/dds_profile.py): DDS on the configured interfaces only. -->\n'
        '<dds xmlns="http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles">\n'
        '  <profiles>\n'
        '    <transport_descriptors>\n'
        f'{"".join(descriptors)}'
        '    </transport_descriptors>\n'
        f'    <participant profile_name="{escape(profile_name)}" is_default_profile="true">\n'
        '      <rtps>\n'
        f'{builtin}'
        f'        <userTransports>{"".join(transports)}</userTransports>\n'
        '        <useBuiltinTransports>false</useBuiltinTransports>\n'
        '      </rtps>\n'
        '    </participant>\n'
        '  </profiles>\n'
        '</dds>\n'
    )


@dataclass
class DdsProfile:
    """What :func:`apply_dds_profile` did: ``path`` of the profile written (None when it did
    nothing), ``reason`` it did nothing, and the environment it changed (undone by :meth:`restore`)."""

    path: Optional[str] = None
    reason: str = ""
    _env: Optional[MutableMapping[str, str]] = None
    _changed: Dict[str, Optional[str]] = field(default_factory=dict)
    _set: Dict[str, str] = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return self.path is not None

    def restore(self) -> None:
        """Put back the variables changed (those still holding this profile's values).

        The file stays: another node may be using the same one (it is named by its content)."""
        env = self._env
        if env is not None:
            for key, previous in self._changed.items():
                if env.get(key) != self._set.get(key):
                    continue  # someone changed it since: leave theirs
                if previous is None:
                    env.pop(key, None)
                else:
                    env[key] = previous
        self._changed.clear()
        if self.path is not None:
            _WRITTEN.discard(self.path)
            self.path = None


def _write(text: str, directory: Path) -> str:
    """The path of a file holding ``text`` in ``directory`` (a temporary file where it cannot be written)."""
    name = f"fastdds-{hashlib.sha256(text.encode()).hexdigest()[:16]}.xml"
    try:
        folder = Path(directory).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if path.is_file() and path.read_text() == text:
            return str(path)
        fd, staging = tempfile.mkstemp(prefix=".fastdds-", suffix=".xml", dir=folder)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(staging, path)  # atomic: a node starting meanwhile reads the old file or the new one
        return str(path)
    except OSError:
        fd, staging = tempfile.mkstemp(prefix="onset-fastdds-", suffix=".xml")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return staging


def apply_dds_profile(
    interfaces: Optional[Sequence[str]],
    profile_name: str = "onset_edge",
    env: Optional[MutableMapping[str, str]] = None,
    directory: Optional[Path] = None,
) -> DdsProfile:
    """Write the allowlist profile for ``interfaces`` and point Fast DDS at it in ``env`` (os.environ).

    Does nothing (``applied`` False, ``reason`` says why) when ``interfaces`` is None, when the
    user already names a profiles file, or when ``RMW_IMPLEMENTATION`` is not Fast DDS. Call it
    before the rclpy context and node are created; :meth:`DdsProfile.restore` after they are gone.
    """
    env = os.environ if env is None else env
    if interfaces is None:
        return DdsProfile(reason="ros.interfaces is null: DDS binds every interface")
    own = [key for key in PROFILE_ENV if env.get(key)]
    if own and env[own[0]] in _WRITTEN:
        return DdsProfile(reason=f"this process already uses Onset's profile {env[own[0]]}")
    if own:
        return DdsProfile(reason=f"{own[0]}={env[own[0]]} is the user's own Fast DDS profile: left as it is")
    rmw = env.get("RMW_IMPLEMENTATION", "")
    if rmw not in _FASTDDS_RMWS:
        return DdsProfile(reason=f"RMW_IMPLEMENTATION={rmw}: the interface allowlist is a Fast DDS profile")
    text = fastdds_profile_xml(interfaces, profile_name)
    path = _write(text, PROFILE_DIR if directory is None else directory)
    profile = DdsProfile(path=path, _env=env)
    _WRITTEN.add(path)
    wanted = {key: path for key in _profile_env(env)}
    if env.get(_RANGE_ENV, "").upper() == "LOCALHOST":
        wanted[_RANGE_ENV] = "SUBNET"
    for key, value in wanted.items():
        profile._changed[key] = env.get(key)
        profile._set[key] = value
        env[key] = value
    _log.info("DDS restricted to %s (Fast DDS profile %s)", ", ".join(interfaces), path)
    return profile
