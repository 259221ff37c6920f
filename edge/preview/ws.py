"""``/ws``: one viewer's WebSocket, from the handshake to the close.

The token is checked before the handshake is accepted (a refused one is answered HTTP 403). An
accepted viewer gets ``hello`` and the current ``state``, then frames as they come (its sender
task, :func:`edge.preview.viewers.run_sender`), while this coroutine reads what the page sends:

* ``parts``, ``ping``, ``drawn`` (:mod:`edge.preview.protocol`); one the server cannot take is
  answered with an ``error`` message and the socket stays open;
* a text message over :data:`~edge.preview.protocol.MAX_TEXT_BYTES`, or more than
  :data:`~edge.preview.viewers.MESSAGES_PER_S` messages a second sustained (a token bucket with a
  burst of :data:`~edge.preview.viewers.MESSAGE_BURST`), closes this viewer's socket with 1008
  (policy violation) and touches no other viewer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from edge.preview.errors import ClientMessageError
from edge.preview.protocol import MAX_TEXT_BYTES, Drawn, PartsRequest, Ping, json_text, parse_client_message
from edge.preview.viewers import MESSAGES_PER_S, run_sender

__all__ = ["serve_viewer", "POLICY_VIOLATION"]

POLICY_VIOLATION = 1008
_CLOSE_WAIT_S = 1.0


def _error(text: str) -> str:
    return json_text({"type": "error", "error": text})


async def _close(websocket: Any, reason: str) -> None:
    try:
        await asyncio.wait_for(websocket.close(code=POLICY_VIOLATION, reason=reason[:120]), _CLOSE_WAIT_S)
    except Exception:  # noqa: BLE001 - a socket already gone, or one that does not take the close frame
        pass


async def serve_viewer(websocket: Any, service: Any, access: Any) -> None:
    """Serve one viewer on a Starlette ``websocket`` (module docstring)."""
    token = websocket.query_params.get("token")
    if not access.may_watch(token):
        await websocket.close(code=POLICY_VIOLATION, reason="missing or wrong token: connect to /ws?token=TOKEN")
        return
    await websocket.accept()
    hub = service.hub
    viewer = hub.add(controls=access.may_control(token))
    viewer.offer_text(json_text(service.hello(viewer)))
    viewer.offer_state(json_text(service.state()))
    sender = asyncio.ensure_future(run_sender(viewer, hub, websocket.send_text, websocket.send_bytes))
    closing = None
    try:
        while closing is None:
            receiving = asyncio.ensure_future(websocket.receive())
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if receiving not in done:  # the sender stopped: the socket is gone
                receiving.cancel()
                break
            message = receiving.result()
            if message["type"] == "websocket.disconnect":
                break
            text, data = message.get("text"), message.get("bytes")
            size = len(text.encode("utf-8")) if text is not None else len(data or b"")
            if size > MAX_TEXT_BYTES:
                closing = ("oversize", f"message of {size} bytes is over {MAX_TEXT_BYTES}")
            elif not viewer.limit.allow():
                closing = ("flood", f"more than {MESSAGES_PER_S:g} messages a second")
            else:
                _take(service, viewer, text)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        hub.remove(viewer)
    if closing is not None:
        hub.count_close(closing[0])
        await _close(websocket, closing[1])


def _take(service: Any, viewer: Any, text: Any) -> None:
    """Act on one message from the page; an ``error`` back for one that cannot be taken."""
    try:
        if text is None:
            raise ClientMessageError("the page sends text JSON messages (parts, ping, drawn), not binary ones")
        message = parse_client_message(text)
        if isinstance(message, PartsRequest):
            service.hub.set_parts(viewer, message.parts)
        elif isinstance(message, Ping):
            viewer.offer_text(json_text({"type": "pong", "id": message.id, "client_ms": message.client_ms,
                                         "server_ns": service.now_ns()}))
        elif isinstance(message, Drawn):
            service.hub.drawn(viewer, message)
    except ClientMessageError as err:
        service.client_errors += 1
        viewer.offer_text(_error(str(err)))
