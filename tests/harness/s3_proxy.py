"""A counting, fault-injecting HTTP proxy between an S3 client and the studio, for the upload tests.

``S3Proxy(upstream)`` listens on a free loopback port and forwards every request unchanged (the
Host header too, so SigV4 signatures still hold) to ``upstream``. It sees every request from
outside the uploader, so the tests can say what was really sent:

- ``part_arrivals[(upload id, part number)]``: UploadPart requests that arrived (headers read);
- ``part_stored[(upload id, part number)]``: UploadPart requests the store answered 200 to, and
  ``part_sizes`` the body sizes forwarded;
- ``max_parts_in_flight``: the most UploadPart requests open at once (arrival to answer);
- ``operations``: every request's S3 operation, in order (``UploadPart``, ``ListParts``, ...).

Faults, each for the next ``times`` UploadPart requests of one part number (any with None):
``garbage`` (answer an HTML page with status 200, forward nothing), ``corrupt`` (flip a byte of
the body, then forward), ``truncate`` (forward half the body with a matching Content-Length),
``drop`` (close the connection without an answer), ``etag`` (forward, but answer another ETag).
``corrupt_reads`` holds key suffixes whose GetObject answers get one byte flipped (a store returning
other bytes than it was given). ``garbage_everything`` answers every request with HTML. Like a
store without CRC support, the proxy refuses (S3 error ``NotImplemented``) any request carrying
an ``x-amz-checksum-*`` header or an ``aws-chunked`` body, unless ``refuse_checksums`` is off. ``gate(n, timeout_s)`` holds UploadPart requests (after their body arrived) until
``n`` are held at once or the timeout passes, to show how many a client sends in parallel.
"""

from __future__ import annotations

import collections
import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple

__all__ = ["S3Proxy", "HTML_PAGE", "operation_of"]

HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
PartId = Tuple[str, int]
_NO_CHECKSUMS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code><Message>This store does '
                 b"not support additional checksums</Message></Error>")


def _carries_checksum(handler: BaseHTTPRequestHandler) -> bool:
    names = [k.lower() for k in handler.headers.keys()]
    return (any(n.startswith("x-amz-checksum-") or n in ("x-amz-sdk-checksum-algorithm", "x-amz-trailer") for n in names)
            or "aws-chunked" in (handler.headers.get("Content-Encoding") or ""))


def operation_of(method: str, query: Dict[str, List[str]], path: str) -> str:
    """The S3 operation of a path-style request (``UploadPart``, ``ListParts``, ``PutObject``...)."""
    has_key = path.strip("/").count("/") >= 1
    if "uploadId" in query:
        return {"PUT": "UploadPart", "GET": "ListParts", "POST": "CompleteMultipartUpload",
                "DELETE": "AbortMultipartUpload"}.get(method, method)
    if "uploads" in query:
        return "CreateMultipartUpload" if method == "POST" else "ListMultipartUploads"
    if method == "PUT":
        return "PutObject" if has_key else "CreateBucket"
    if method == "GET":
        return "GetObject" if has_key else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    return method


@dataclass
class _Fault:
    kind: str
    part_number: Optional[int]
    times: int


class S3Proxy:
    """See the module docstring. Use as a context manager; ``url`` is the endpoint to give the client."""

    def __init__(self, upstream: str, refuse_checksums: bool = True) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._lock = threading.Condition()
        self.part_arrivals: Dict[PartId, int] = collections.Counter()
        self.part_stored: Dict[PartId, int] = collections.Counter()
        self.part_sizes: Dict[PartId, List[int]] = collections.defaultdict(list)
        self.operations: List[str] = []
        self.parts_in_flight = 0
        self.max_parts_in_flight = 0
        self.garbage_everything = False
        self.refuse_checksums = refuse_checksums
        self.checksums_refused = 0
        self.corrupt_reads: List[str] = []
        self._faults: List[_Fault] = []
        self.faults_done: List[Tuple[str, int]] = []
        self._gate: Optional[Tuple[int, float]] = None
        self._held = 0
        self._round = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-proxy", daemon=True)

    # ---- control ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "S3Proxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def inject(self, kind: str, part_number: Optional[int] = None, times: int = 1) -> None:
        """The next ``times`` UploadPart requests of ``part_number`` (any with None) meet ``kind``."""
        if kind not in ("garbage", "corrupt", "truncate", "drop", "etag"):
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, part_number, times))

    def gate(self, parts: int, timeout_s: float) -> None:
        """Hold UploadPart requests until ``parts`` are held at once, or ``timeout_s`` passes."""
        with self._lock:
            self._gate = (parts, timeout_s)

    def stored_count(self) -> int:
        with self._lock:
            return sum(self.part_stored.values())

    def arrived_count(self) -> int:
        with self._lock:
            return sum(self.part_arrivals.values())

    def wait_until(self, predicate, timeout_s: float = 30.0) -> bool:
        """Wait (on the proxy's own condition, no polling sleep) until ``predicate(self)`` holds."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    # ---- the proxy ----------------------------------------------------------------------------

    def _fault_for(self, number: int) -> Optional[str]:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.part_number in (None, number):
                    fault.times -= 1
                    self.faults_done.append((fault.kind, number))
                    return fault.kind
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        operation = operation_of(handler.command, query, split.path)
        part: Optional[PartId] = None
        if operation == "UploadPart":
            part = (query["uploadId"][0], int(query["partNumber"][0]))
        with self._lock:
            self.operations.append(operation)
            if part is not None:
                self.part_arrivals[part] += 1
                self.parts_in_flight += 1
                self.max_parts_in_flight = max(self.max_parts_in_flight, self.parts_in_flight)
            self._lock.notify_all()
        try:
            self._serve(handler, operation, part)
        finally:
            if part is not None:
                with self._lock:
                    self.parts_in_flight -= 1
                    self._lock.notify_all()

    def _read_body(self, handler: BaseHTTPRequestHandler) -> Optional[bytes]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, headers: List[Tuple[str, str]],
                body: bytes) -> None:
        handler.send_response(status)
        length = str(len(body))
        for name, value in headers:
            if name.lower() == "content-length" and handler.command == "HEAD":
                length = value  # a HEAD answer announces the object's size, with no body
            elif name.lower() not in _HOP and name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", length)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _hold(self) -> None:
        with self._lock:
            if self._gate is None:
                return
            wanted, timeout_s = self._gate
            round_ = self._round
            self._held += 1
            if self._held >= wanted:
                # Enough are held together: let this round go, every one of them.
                self._round += 1
                self._held = 0
                self._lock.notify_all()
                return
            deadline = time.monotonic() + timeout_s
            while self._round == round_ and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            if self._round == round_:
                self._held -= 1

    def _serve(self, handler: BaseHTTPRequestHandler, operation: str, part: Optional[PartId]) -> None:
        split = urllib.parse.urlsplit(handler.path)
        body = self._read_body(handler)
        if body is None:  # the client went away in the middle of its body: nothing is forwarded
            handler.close_connection = True
            return
        if self.garbage_everything:
            self._answer(handler, 200, [("Content-Type", "text/html")], HTML_PAGE)
            return
        if self.refuse_checksums and _carries_checksum(handler):
            with self._lock:
                self.checksums_refused += 1
            self._answer(handler, 400, [("Content-Type", "application/xml")], _NO_CHECKSUMS)
            return
        fault = self._fault_for(part[1]) if part is not None else None
        if fault == "garbage":
            self._answer(handler, 200, [("Content-Type", "text/html")], HTML_PAGE)
            return
        if fault == "drop":
            handler.close_connection = True
            return
        if fault == "corrupt" and body:
            body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0xFF]) + body[len(body) // 2 + 1:]
        elif fault == "truncate":
            body = body[:len(body) // 2]
        if part is not None:
            self._hold()
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            upstream.request(handler.command, handler.path, body=body if body or handler.command in ("PUT", "POST")
                             else None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            answer_headers = response.getheaders()
            status = response.status
        except OSError:
            # The studio is down: the client sees its connection closed, as it would without the proxy.
            handler.close_connection = True
            return
        finally:
            upstream.close()
        if part is not None:
            with self._lock:
                self.part_sizes[part].append(len(body))
                if status == 200:
                    self.part_stored[part] += 1
                self._lock.notify_all()
        if fault == "etag":
            answer_headers = [(k, '"00000000000000000000000000000000"' if k.lower() == "etag" else v)
                              for k, v in answer_headers]
        if operation == "GetObject" and data and any(split.path.endswith(s) for s in self.corrupt_reads):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        self._answer(handler, status, answer_headers, data)
