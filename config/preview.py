"""Settings of the live preview (``preview:`` in a profile): where it listens, its token, its JPEGs.

``onset preview`` serves the camera department's page (docs/preview.md). It binds ``host`` only
(loopback by default: a crew that wants the page on a tablet names the stage network's address),
asks for the token in ``token_env`` (one is generated at start when that variable is unset), and
reads the takes the node records: ``takes_dir`` None means the recorder's ``recorder.takes_dir``,
as ``onset takes`` finds them.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["PreviewConfig", "DEFAULT_PREVIEW_PORT", "PREVIEW_TOKEN_ENV"]

DEFAULT_PREVIEW_PORT = 8080
PREVIEW_TOKEN_ENV = "ONSET_PREVIEW_TOKEN"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PreviewConfig(_Model):
    """The preview server: bind address, access, encoding (docs/preview.md)."""

    host: str = Field("127.0.0.1", description="address to bind (an IP address or localhost); loopback keeps the "
                                               "page on this machine, a stage-network address shares it")
    port: int = Field(DEFAULT_PREVIEW_PORT, ge=1, le=65535, description="TCP port of the page, its WebSocket and API")
    token_env: str = Field(PREVIEW_TOKEN_ENV, min_length=1,
                           description="environment variable holding the viewers' token (unset: one is made at start)")
    watch_without_token: bool = Field(
        False, description="let anyone who reaches the page watch without the token (a monitor wall); "
                           "controls (look, takes, engines) always need it")
    jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of the styled and raw images (10-100)")
    takes_dir: Optional[Path] = Field(
        None, description="the takes the page lists (default: the node's own, else the profile's recorder.takes_dir)")

    @field_validator("host")
    @classmethod
    def _address(cls, value: str) -> str:
        if value == "localhost":
            return value
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"host must be an IP address or localhost, got {value!r}") from None
        return value

    @field_validator("takes_dir")
    @classmethod
    def _expand(cls, value: Optional[Path]) -> Optional[Path]:
        return None if value is None else Path(value).expanduser()
