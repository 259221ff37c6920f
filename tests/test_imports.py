"""Every module of Onset imports on this Python (the 3.10 pass skips the slow tests; this keeps
every module, slow-tested or not, loaded there)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from edge.ros.errors import RosUnavailableError

_PACKAGES = ("config", "sensors", "edge", "engines", "studio_sync")
# Modules that need what only some hosts have: rclpy (ROS 2), GStreamer (PyGObject), torch (training;
# the Python 3.10 pass has no torch).
_OPTIONAL = ("torch", "rclpy", "gi", "rosidl_runtime_py", "sensor_msgs", "std_msgs", "geometry_msgs",
             "diagnostic_msgs", "tf2_msgs", "builtin_interfaces", "rosgraph_msgs")


def _modules():
    names = []
    for package in _PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=package + "."):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_module_imports(name):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in _OPTIONAL:
            pytest.skip(f"{name} needs {err.name}, not installed here")
        raise
    except RosUnavailableError as err:
        pytest.skip(f"{name}: {err}")
