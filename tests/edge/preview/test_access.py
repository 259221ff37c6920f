"""The token: refused and accepted on the WebSocket and the API; a monitor wall watches without it,
but never controls."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from edge.preview.access import Access, check_token, token_of
from edge.preview.errors import PreviewStartError

from .fakes import TOKEN, connect, is_text, next_message

WATCH = ["/api/state", "/api/takes", "/metrics", "/api/looks/35mm.cube?size=17", "/api/takes/x/thumbnail.jpg"]
CONTROL = [("/api/look", {"look": "push2"}), ("/api/engines/style", {"enabled": False}),
           ("/api/take/start", {"scene": "1", "shot": "1"}), ("/api/take/stop", {})]


def test_a_missing_or_wrong_token_is_refused_everywhere(make_preview):
    preview = make_preview()
    client = httpx.Client(base_url=preview.url, timeout=5)
    for token in (None, "", "wrong", TOKEN + "x", TOKEN[:-1]):
        with pytest.raises(InvalidStatus) as refused:
            with connect(preview, token=token):
                pass
        assert refused.value.response.status_code == 403, token
        headers = {} if not token else {"Authorization": f"Bearer {token}"}
        query = "" if token is None else f"token={token}"
        for path in WATCH:
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401 and "token" in answer.json()["error"], (path, token)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert client.get(path + ("&" if "?" in path else "?") + query).status_code == 401, (path, token)
        for path, body in CONTROL:
            assert client.post(path, json=body, headers=headers).status_code == 401, path
    assert preview.service.switches.enabled("style")  # nothing was switched
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/").status_code == 200  # the page holds no data
    client.close()


def test_the_token_opens_the_socket_and_the_api_by_header_or_query(make_preview):
    preview = make_preview()
    with connect(preview) as ws:
        hello = next_message(ws, is_text("hello"))
        assert hello["controls"] is True
        state = next_message(ws, is_text("state"))
        assert set(state["sources"]) == {"fused", "styled", "style", "captioner", "node", "looks"}
    assert httpx.get(f"{preview.url}/api/state", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 200
    assert httpx.get(f"{preview.url}/api/state?token={TOKEN}", timeout=5).status_code == 200
    switched = httpx.post(f"{preview.url}/api/engines/style", json={"enabled": False},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert switched.status_code == 200 and switched.json()["enabled"] is False


def test_watch_without_token_lets_a_monitor_wall_watch_but_not_control(make_preview):
    preview = make_preview(watch_without_token=True)
    with connect(preview, token=None) as ws:
        assert next_message(ws, is_text("hello"))["controls"] is False
    with connect(preview, token="wrong") as ws:
        assert next_message(ws, is_text("hello"))["controls"] is False
    with connect(preview) as ws:
        assert next_message(ws, is_text("hello"))["controls"] is True
    assert httpx.get(f"{preview.url}/api/state", timeout=5).status_code == 200
    assert httpx.get(f"{preview.url}/metrics", timeout=5).status_code == 200
    for path, body in CONTROL:
        answer = httpx.post(preview.url + path, json=body, timeout=5)
        assert answer.status_code == 401 and "controls need the token" in answer.json()["error"], path
    assert httpx.post(f"{preview.url}/api/engines/style", json={"enabled": False},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 200


def test_tokens_are_checked_and_read_as_documented():
    access = Access("s3cret-token")
    assert access.valid("s3cret-token") and not access.valid("s3cret-tokeN") and not access.valid(None)
    assert not access.valid("s3cret-token\u00e9") and not access.may_watch("") and not access.may_control(None)
    assert Access("t", watch_without_token=True).may_watch(None) and not Access("t", True).may_control(None)
    assert token_of("Bearer abc", "q") == "abc" and token_of("bearer  abc ", None) == "abc"
    assert token_of("Basic abc", "q") == "q" and token_of(None, None) is None and token_of("Bearer ", None) is None
    for bad in ("", "has space", "x" * 257, "tab\there", "caf\u00e9"):
        with pytest.raises(PreviewStartError, match="--token"):
            check_token(bad, "--token")
    assert check_token("A-b_c.~9", "--token") == "A-b_c.~9"
