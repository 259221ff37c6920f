"""ROS 2 tests: DDS stays on this machine and every test gets its own ROS_DOMAIN_ID.

The domain comes from the pid and a per-process counter, in 1..99 (Linux-safe DDS ports, and
apart from the 100..199 the top-level conftest hands out), and is set before any test creates
an rclpy context, so parallel runs and consecutive tests never see each other's nodes.
"""

from __future__ import annotations

import itertools
import os

import pytest

_next = itertools.count()


@pytest.fixture(autouse=True)
def ros_domain(monkeypatch) -> int:
    domain = 1 + (os.getpid() * 7 + next(_next)) % 99
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_LOCALHOST_ONLY", "1")
    return domain
