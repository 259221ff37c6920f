"""A Foxglove WebSocket protocol client for the tests, written from the protocol's v1 message layout,
and a protobuf decoder built from the schemas the server advertises (google.protobuf as referee).

Text messages are JSON objects with an ``op``; a binary ``messageData`` is opcode 0x01, the
subscription id (uint32 LE), the log time (uint64 LE ns) and the payload. The SDK's server speaks
this layout under the subprotocol ``foxglove.sdk.v1``. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import websockets
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["SUBPROTOCOL", "MessageData", "FoxgloveClient", "protobuf_decoder", "decoder_for"]

SUBPROTOCOL = "foxglove.sdk.v1"
_MESSAGE_DATA = 0x01
_HEADER = struct.Struct("<BIQ")


class MessageData(NamedTuple):
    subscription_id: int
    log_time_ns: int
    payload: bytes


def protobuf_decoder(schema_name: str, file_descriptor_set: bytes) -> Callable[[bytes], Any]:
    """``FromString`` of ``schema_name`` in a serialized FileDescriptorSet (its files in any order)."""
    files = list(descriptor_pb2.FileDescriptorSet.FromString(file_descriptor_set).file)
    pool = descriptor_pool.DescriptorPool()
    added: set = set()
    while files:
        ready = [f for f in files if all(dep in added for dep in f.dependency)]
        if not ready:
            raise ValueError(f"schema {schema_name}: unresolved imports in {[f.name for f in files]}")
        for f in ready:
            pool.Add(f)
            added.add(f.name)
            files.remove(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(schema_name)).FromString


def decoder_for(channel: Dict[str, Any]) -> Callable[[bytes], Any]:
    """A payload decoder for an advertised channel: protobuf by its schema, or JSON."""
    if channel["encoding"] == "json":
        return lambda payload: json.loads(payload.decode("utf-8"))
    if channel["encoding"] == "protobuf":
        return protobuf_decoder(channel["schemaName"], base64.b64decode(channel["schema"]))
    raise ValueError(f"no decoder for encoding {channel['encoding']!r}")


class FoxgloveClient:
    """One connection: ``server_info`` and ``channels`` (topic -> advertised channel) once connected."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.ws: Any = None
        self.server_info: Optional[Dict[str, Any]] = None
        self.channels: Dict[str, Dict[str, Any]] = {}
        self._by_subscription: Dict[int, str] = {}

    async def __aenter__(self) -> "FoxgloveClient":
        self.ws = await websockets.connect(self.url, subprotocols=[SUBPROTOCOL], open_timeout=self.timeout_s,
                                           max_size=None)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.wait_for(self.ws.close(), self.timeout_s)

    async def _recv(self, timeout_s: float) -> Any:
        return await asyncio.wait_for(self.ws.recv(), timeout_s)

    async def handshake(self, expect_topics: List[str]) -> None:
        """Read ``serverInfo`` first, then ``advertise`` messages until every topic in ``expect_topics``
        is known; anything else before that is an error."""
        first = json.loads(await self._recv(self.timeout_s))
        if first.get("op") != "serverInfo":
            raise AssertionError(f"the server's first message is {first.get('op')!r}, not serverInfo")
        self.server_info = first
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while not set(expect_topics) <= set(self.channels):
            message = json.loads(await self._recv(max(0.01, deadline - loop.time())))
            if message.get("op") != "advertise":
                raise AssertionError(f"expected advertise, got {message.get('op')!r}")
            for channel in message["channels"]:
                self.channels[channel["topic"]] = channel

    async def subscribe(self, topics: List[str]) -> Dict[str, int]:
        """Subscribe to ``topics``; topic -> the subscription id chosen here."""
        ids = {topic: index + 1 for index, topic in enumerate(topics)}
        subscriptions = [{"id": ids[t], "channelId": self.channels[t]["id"]} for t in topics]
        await self.ws.send(json.dumps({"op": "subscribe", "subscriptions": subscriptions}))
        self._by_subscription.update({sub_id: topic for topic, sub_id in ids.items()})
        return ids

    async def receive_each(self, topics: List[str], timeout_s: float,
                           until: Optional[Callable[[str, MessageData], bool]] = None) -> Dict[str, MessageData]:
        """The first ``messageData`` on each topic (for which ``until`` accepts it, when given),
        within ``timeout_s`` in all; text messages in between are skipped."""
        got: Dict[str, MessageData] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not set(topics) <= set(got):
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no messageData within {timeout_s} s on {sorted(set(topics) - set(got))}")
            try:
                data = await self._recv(left)
            except asyncio.TimeoutError:
                continue
            if isinstance(data, str):
                continue
            opcode, sub_id, log_time = _HEADER.unpack_from(data)
            if opcode != _MESSAGE_DATA:
                continue
            topic = self._by_subscription[sub_id]
            message = MessageData(sub_id, log_time, bytes(data[_HEADER.size:]))
            if topic not in got and (until is None or until(topic, message)):
                got[topic] = message
        return got
