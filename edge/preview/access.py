"""Who may watch and who may control: one token, compared in constant time.

Watching (the WebSocket, ``GET /api/...``, ``/metrics``) needs the token unless
``watch_without_token`` is set (a monitor wall); controlling (every ``POST``) always needs it.
The token comes in ``Authorization: Bearer TOKEN`` or, where a browser cannot set a header (the
WebSocket, an image, a download), as ``?token=TOKEN``. The page itself (``GET /``) holds no data
and needs none: it reads the token from its URL fragment (``#token=``), which a browser never sends.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Optional

from edge.preview.errors import PreviewStartError

__all__ = ["MAX_TOKEN_CHARS", "make_token", "check_token", "token_of", "Access"]

MAX_TOKEN_CHARS = 256


def make_token() -> str:
    """A new random token (URL-safe: it travels in a URL fragment and a query)."""
    return secrets.token_urlsafe(24)


def check_token(token: str, source: str) -> str:
    """``token`` if it can be one (1 to 256 visible ASCII characters), else :class:`PreviewStartError` naming ``source``."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise PreviewStartError(f"the preview token from {source} must be 1 to {MAX_TOKEN_CHARS} characters")
    if not all(33 <= ord(ch) < 127 for ch in token):
        raise PreviewStartError(f"the preview token from {source} must be visible ASCII characters, no spaces")
    return token


def token_of(authorization: Optional[str], query_token: Optional[str]) -> Optional[str]:
    """The token a request carries: its bearer header, else its ``token`` query parameter."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return query_token or None


class Access:
    """The rule above, for one server's ``token``."""

    def __init__(self, token: str, watch_without_token: bool = False) -> None:
        self._token = token.encode("utf-8")
        self.watch_without_token = bool(watch_without_token)

    def valid(self, given: Optional[str]) -> bool:
        """True for the server's token (compared in constant time)."""
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def may_watch(self, given: Optional[str]) -> bool:
        return self.watch_without_token or self.valid(given)

    def may_control(self, given: Optional[str]) -> bool:
        return self.valid(given)
