"""FoxgloveConfig: its defaults, and the loopback rule the node's control API follows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.foxglove import DEFAULT_FOXGLOVE_PORT, FoxgloveConfig, is_loopback_host
from config.models import ControlConfig
from config.preview import DEFAULT_PREVIEW_PORT


def test_defaults():
    config = FoxgloveConfig()
    assert config.enabled is True
    assert config.host == "127.0.0.1"
    assert config.port == DEFAULT_FOXGLOVE_PORT == 8767
    assert config.allow_remote is False
    assert config.jpeg_quality == 80
    assert config.cloud_every_n_sweeps == 1
    assert config.captions is True and config.captions_endpoint is None
    assert config.style_results is True and config.style_endpoint is None


def test_default_port_is_clear_of_the_nodes_other_servers():
    assert FoxgloveConfig().port not in (ControlConfig().port, DEFAULT_PREVIEW_PORT)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host):
    assert FoxgloveConfig(host=host).host == host
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.5", "0.0.0.0", "::", "192.168.1.20"])
def test_other_hosts_are_refused_unless_allowed(host):
    with pytest.raises(ValidationError) as info:
        FoxgloveConfig(host=host)
    (error,) = info.value.errors()
    assert error["loc"] == ("host",)
    assert "loopback" in error["msg"] and "allow_remote" in error["msg"] and "ssh -L" in error["msg"]
    assert FoxgloveConfig.model_validate({"host": host, "allow_remote": True}).host == host


def test_a_host_name_is_refused_even_when_remote_is_allowed():
    with pytest.raises(ValidationError, match="IP address or localhost"):
        FoxgloveConfig(host="stage.example.com", allow_remote=True)


@pytest.mark.parametrize("values", [{"jpeg_quality": 5}, {"jpeg_quality": 101}, {"port": 70000},
                                    {"cloud_every_n_sweeps": 0}, {"hots": "127.0.0.1"}])
def test_out_of_range_and_unknown_keys_are_refused(values):
    with pytest.raises(ValidationError):
        FoxgloveConfig.model_validate(values)


def test_is_frozen():
    with pytest.raises(ValidationError):
        FoxgloveConfig().port = 1
