"""The GStreamer guard: gi loads only on demand, and a missing piece says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sensors.camera import gst as camera_gst
from sensors.camera.errors import CameraError, GstUnavailableError, MissingElementError
from tests.sensors.camera._support import gst_only


def test_importing_the_camera_family_does_not_import_gi():
    code = (
        "import sys; import sensors.camera, sensors.camera.pipelines, sensors.camera.driver, sensors.camera.sim; "
        "from sensors.camera import CameraDriver, CameraSim; "
        "assert 'gi' not in sys.modules, 'gi imported'; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_missing_pygobject_says_what_to_install(monkeypatch):
    monkeypatch.setattr(camera_gst, "_modules", None)
    monkeypatch.setitem(sys.modules, "gi", None)  # import gi -> ImportError
    with pytest.raises(GstUnavailableError) as info:
        camera_gst.require_gst()
    message = str(info.value)
    assert "gir1.2-gst-plugins-base-1.0" in message
    assert 'pip install "PyGObject<3.50"' in message
    assert isinstance(info.value, CameraError) and isinstance(info.value, ImportError)
    assert camera_gst.gst_available() is False


def test_missing_typelib_is_named(monkeypatch):
    class FakeGi:
        @staticmethod
        def require_version(namespace, version):
            if namespace == "GstVideo":
                raise ValueError(f"Namespace {namespace} not available")

    monkeypatch.setattr(camera_gst, "_modules", None)
    monkeypatch.setitem(sys.modules, "gi", FakeGi)
    with pytest.raises(GstUnavailableError, match="GstVideo-1.0 introspection typelib"):
        camera_gst.require_gst()


@gst_only
def test_require_gst_initialises_once():
    first = camera_gst.require_gst()
    assert camera_gst.require_gst() is first
    assert first.Gst.is_initialized()
    assert camera_gst.element_available("rtpvrawdepay") and camera_gst.element_available("udpsrc")
    assert camera_gst.element_available("appsrc") and camera_gst.element_available("appsink")


@gst_only
def test_unknown_element_is_named_with_a_generic_hint():
    with pytest.raises(MissingElementError, match="'onsetnosuchsrc' is not installed") as info:
        camera_gst.require_elements(["appsrc", "onsetnosuchsrc"], needed_for="camera 'a'")
    assert "needed for camera 'a'" in str(info.value)
