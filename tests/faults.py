"""Fault injection on loopback. FaultServer: every call gets the same failure, in the error format
of the calling service's protocol, and every call is recorded. DelayProxy: forwards every call to
a real endpoint and holds requests (or, for chosen operations, the answers) for a while.
FaultProxy: forwards to a real endpoint, records each call as ``service:Operation``, and answers
chosen lookups with one of FAULTS (errors, resets, malformed, empty or HTML answers, slowness, a
body trickled a byte at a time, a 5xx after the call was applied) or of LISTING_FAULTS (pages
without end, a token given twice, the same entry twice, IAM lists cut into pages of one)."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CODES = {  # mode -> (HTTP status, JSON code, EC2 code, query/S3 code)
    "denied": (403, "AccessDeniedException", "UnauthorizedOperation", "AccessDenied"),
    "throttle": (400, "ThrottlingException", "RequestLimitExceeded", "Throttling"),
    "http500": (500, "InternalFailure", "InternalError", "InternalFailure"),
    "request-timeout": (400, "RequestTimeoutException", "RequestTimeout", "RequestTimeout"),
}


class _ProxyHandler(BaseHTTPRequestHandler):
    """What both proxies' handlers share: kept-alive HTTP/1.1, quiet, and no Nagle (headers and
    body go out as two writes: with Nagle on, the client's delayed ACK holds the body ~40 ms on
    every kept-alive connection)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass


class LoopbackServer(ThreadingHTTPServer):
    request_queue_size = 128  # the live checks open many connections at once: none waits for a SYN retry
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
        # else a client that gave up (a timeout, a reset) is part of the test, not a trace to print


class FaultServer:
    def __init__(self, mode: str, delay: float = 0.0):
        self.mode, self.delay, self.calls = mode, delay, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
                target = self.headers.get("X-Amz-Target", "")
                form = parse_qs(body) if "Action=" in body else {}
                server.calls.append(target.rpartition(".")[2] or (form.get("Action") or [self.path])[0])
                if server.delay:
                    time.sleep(server.delay)
                status, json_code, ec2_code, query_code = CODES.get(server.mode, CODES["http500"])
                message = f"injected {server.mode}"
                headers = {}
                if target:
                    content = json.dumps({"__type": json_code, "message": message})
                    headers["Content-Type"] = "application/x-amz-json-1.1"
                elif form.get("Version") == ["2016-11-15"]:
                    content = (f"<Response><Errors><Error><Code>{ec2_code}</Code><Message>{message}</Message>"
                               "</Error></Errors><RequestID>fault</RequestID></Response>")
                elif form:
                    content = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{query_code}</Code><Message>{message}"
                               "</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
                elif self.path.startswith("/clusters"):
                    content = json.dumps({"message": message})
                    headers["x-amzn-ErrorType"] = json_code
                else:
                    content = f"<Error><Code>{query_code}</Code><Message>{message}</Message></Error>"
                payload = content.encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

        self._server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FaultServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class DelayProxy:
    """Forward to ``target``; hold each request ``delay`` seconds before forwarding, and hold the
    answer ``answer_delay`` seconds after it for the operations named in ``slow_answers``."""

    def __init__(self, target: str, delay: float = 0.0, slow_answers: tuple[str, ...] = (), answer_delay: float = 0.0):
        upstream = urlparse(target)
        proxy = self
        self.calls: list[str] = []

        class Handler(_ProxyHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2] or self.path
                proxy.calls.append(operation)
                time.sleep(delay)
                status, answer_headers, payload = _upstream(self, upstream, body)
                if operation in slow_answers:
                    time.sleep(answer_delay)
                try:
                    _reply(self, status, payload, answer_headers)
                except OSError:  # the client gave up waiting
                    pass

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self._server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "DelayProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()




def _upstream(handler, upstream, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send the handler's request on to ``upstream``; its status, headers and whole body."""
    connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
    headers["Content-Length"] = str(len(body))  # the body as forwarded: a fault may have changed it
    connection.request(handler.command, handler.path, body=body, headers=headers)
    answer = connection.getresponse()
    payload = answer.read()
    connection.close()
    return answer.status, answer.getheaders(), payload


def _reply(handler, status: int, payload: bytes, headers: list[tuple[str, str]], announced: int | None = None,
           pace: float = 0.0):
    """Answer with ``payload``, the upstream's headers but its own length (``announced`` to claim
    another); with ``pace``, one byte every ``pace`` seconds."""
    handler.send_response(status)
    for key, value in headers:
        if key.lower() not in ("content-length", "transfer-encoding", "connection"):
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload) if announced is None else announced))
    handler.end_headers()
    if handler.command == "HEAD":
        return
    if not pace:
        handler.wfile.write(payload)
        return
    for i in range(len(payload)):
        handler.wfile.write(payload[i:i + 1])
        handler.wfile.flush()
        time.sleep(pace)


def _retyped(mode: str, payload: bytes) -> bytes:
    """A JSON answer with its first string member a number, or every number a string."""
    def numbers_as_strings(value):
        if isinstance(value, dict):
            return {k: numbers_as_strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [numbers_as_strings(v) for v in value]
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    answer = json.loads(payload)
    if mode == "counts-as-strings":
        return json.dumps(numbers_as_strings(answer)).encode()
    first = next(k for k, v in answer.items() if isinstance(v, str))
    return json.dumps({**answer, first: 12345}).encode()


def _first_entry_twice(text: str) -> str:
    """The XML answer with the first ``<member>`` or ``<item>`` (and all inside it) given twice."""
    first = re.search(r"<(member|item)>", text)
    if first is None:
        return text
    tag, depth = first.group(1), 0
    for found in re.finditer(rf"<(/?){tag}>", text[first.start():]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            end = first.start() + found.end()
            return text[:end] + text[first.start():end] + text[end:]
    return text


def _without_token(handler, body: bytes) -> tuple[bytes, bool]:
    """The request without its page token (a JSON member, or a query form field), and whether it had one."""
    if handler.headers.get("X-Amz-Target"):
        request = json.loads(body or b"{}")
        kept = {k: v for k, v in request.items() if k not in PAGE_TOKENS}
        return json.dumps(kept).encode(), len(kept) < len(request)
    form = parse_qs(body.decode(), keep_blank_values=True)
    kept = [(k, v) for k, values in form.items() if k not in PAGE_TOKENS for v in values]
    return urlencode(kept).encode(), any(k in PAGE_TOKENS for k in form)


def _listing_fault(mode: str, payload: bytes, fresh: str, follow_up: bool) -> bytes:
    """The answer with a next-page token (``fresh`` for endless pages, always the same for a
    repeated one) in its protocol's form, its entries left out on the pages after the first (so
    that what ends the listing is the token, not an entry seen twice); or with its list's first
    entry twice."""
    token = fresh if mode == "endless-pages" else "page-again"
    text = payload.decode()
    if text.lstrip().startswith("{"):  # JSON: a NextToken member, or the first list's first entry twice
        answer = json.loads(text)
        lists = [v for v in answer.values() if isinstance(v, list) and v]
        if mode == "duplicate":
            if lists:
                lists[0].insert(0, lists[0][0])
        else:
            answer["NextToken"] = token
            for listing in lists if follow_up else ():
                listing.clear()
        return json.dumps(answer).encode()
    if follow_up:
        text = re.sub(r"<(member|item)>.*</\1>", "", text, flags=re.S)
    if mode == "duplicate":  # XML: the first entry of the outermost list (IAM <member>, EC2 <item>) twice
        return _first_entry_twice(text).encode()
    if "<IsTruncated>" in text:  # IAM: truncated, with a marker
        return re.sub(r"<IsTruncated>false</IsTruncated>", f"<IsTruncated>true</IsTruncated><Marker>{token}</Marker>",
                      text).encode()
    return re.sub(r"(</\w+Response>\s*)$", f"<nextToken>{token}</nextToken>\\1", text).encode()  # EC2

def _operation(handler, body: bytes) -> str:
    """``service:Operation`` of a signed AWS request, as preflight's lookups name them: the service
    from the signature's credential scope, the operation from X-Amz-Target, the Action form field,
    or the REST path (S3 and EKS)."""
    scope = handler.headers.get("Authorization", "").partition("Credential=")[2].split("/")
    service = {"servicequotas": "service-quotas"}.get(scope[3], scope[3]) if len(scope) > 3 else "?"
    target = handler.headers.get("X-Amz-Target", "")
    if target:
        return f"{service}:{target.rpartition('.')[2]}"
    form = parse_qs(body.decode("utf-8", "replace")) if b"Action=" in body else {}
    if form:
        return f"{service}:{form['Action'][0]}"
    path = urlparse(handler.path).path
    if service == "s3":
        return f"s3:{ {'HEAD': 'HeadBucket' if path.count('/') == 1 else 'HeadObject', 'GET': 'GetObject'}.get(handler.command, handler.command)}"
    if service == "eks":
        if handler.command == "GET" and path.startswith("/clusters/"):
            return "eks:DescribeAddon" if "/addons/" in path else "eks:DescribeCluster"
        return f"eks:{path}"
    return f"{service}:{handler.command} {path}"


FAULTS = ("throttle", "http500", "reset-before", "reset-during-body", "malformed", "empty-200", "html-200",
          "html-404", "slow", "trickle", "late-5xx")
# Faults of listings: every answer says there is another page (a new token each time), or names
# the same token again; the first entry of the answer's list twice. "paged" is no fault: an IAM
# list asked for one entry per page (MaxItems=1), so that a whole list takes several pages.
LISTING_FAULTS = ("endless-pages", "repeated-token", "duplicate")
PAGE_TOKENS = ("NextToken", "Marker", "nextToken")  # a follow-up page's token, as each protocol sends it


class FaultProxy:
    """Forward every call to ``target`` (the local AWS) and record it as ``service:Operation``;
    answer the calls named in ``faults`` ({lookup: mode}) with that fault instead:
    throttle, http500 and denied (AccessDenied) in the service's own error format, a connection reset before the answer or
    in the middle of its body, a malformed (truncated) answer, an empty 200, an HTML page with 200
    or 404, the real answer held ``slow_seconds`` or trickled a byte at a time over them, the call
    applied upstream and then answered with a 500 ("late-5xx") or a 4xx RequestTimeout
    ("late-request-timeout"), a JSON answer whose first string member is a number ("retyped") or
    whose every number is a string ("counts-as-strings"), or a LISTING_FAULTS fault.
    ``before`` ({lookup: function}) runs a function when that call arrives, before it is forwarded
    (to change the upstream's state in the middle of a run). ``message`` is the text the injected
    errors carry (by default, which fault)."""

    def __init__(self, target: str, faults: dict[str, str] | None = None, slow_seconds: float = 3.0,
                 before: dict | None = None, message: str | None = None):
        upstream = urlparse(target)
        proxy, message_given = self, message
        self.faults = dict(faults or {})
        self.before = dict(before or {})
        self.calls: list[str] = []
        tokens = itertools.count()

        class Handler(_ProxyHandler):
            def _reset(self):
                import socket
                import struct

                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = _operation(self, body)
                proxy.calls.append(operation)
                mode = proxy.faults.get(operation)
                if operation in proxy.before:
                    proxy.before[operation]()
                follow_up = False
                if mode in LISTING_FAULTS:  # the token is the proxy's, not the upstream's: ask for the first page
                    body, follow_up = _without_token(self, body)
                if mode == "paged":
                    body += b"&MaxItems=1"
                if mode == "reset-before":
                    return self._reset()
                if mode in ("throttle", "http500", "denied"):
                    return self._error(mode, body)
                if mode in ("html-200", "html-404"):
                    page = b"<html><head><title>Gateway</title></head><body><h1>Not here</h1></body></html>"
                    return _reply(self, 200 if mode == "html-200" else 404, page, [("Content-Type", "text/html")])
                if mode == "empty-200":
                    return _reply(self, 200, b"", [])
                status, answer_headers, payload = _upstream(self, upstream, body)
                if mode in ("late-5xx", "late-request-timeout"):  # applied upstream; then a failure on the way back
                    return self._error("http500" if mode == "late-5xx" else "request-timeout", body)
                if mode in ("retyped", "counts-as-strings") and status == 200:
                    payload = _retyped(mode, payload)
                if mode in LISTING_FAULTS and status == 200:
                    payload = _listing_fault(mode, payload, f"page-{next(tokens)}", follow_up)
                try:
                    if mode == "trickle":  # every byte in time for a read timeout, the whole far too late
                        return _reply(self, status, payload, answer_headers, pace=slow_seconds / max(len(payload), 1))
                    if mode == "slow":
                        time.sleep(slow_seconds)
                    if mode == "malformed":
                        return _reply(self, status, payload[: len(payload) // 2], answer_headers)
                    if mode == "reset-during-body":  # announce the whole body, send half, cut the line
                        _reply(self, status, payload[: len(payload) // 2], answer_headers, announced=len(payload) + 64)
                        return self._reset()
                    _reply(self, status, payload, answer_headers)
                except OSError:  # the client gave up waiting
                    self.close_connection = True

            def _error(self, mode: str, body: bytes):
                status, json_code, ec2_code, query_code = CODES[mode]
                message = message_given or f"injected {mode}"
                if self.headers.get("X-Amz-Target"):
                    payload, headers = json.dumps({"__type": json_code, "message": message}), [
                        ("Content-Type", "application/x-amz-json-1.1")]
                elif b"Version=2016-11-15" in body:
                    payload, headers = (f"<Response><Errors><Error><Code>{ec2_code}</Code><Message>{message}"
                                        "</Message></Error></Errors><RequestID>fault</RequestID></Response>"), []
                elif b"Action=" in body:
                    payload, headers = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{query_code}</Code>"
                                        f"<Message>{message}</Message></Error><RequestId>fault</RequestId>"
                                        "</ErrorResponse>"), []
                elif self.path.startswith("/clusters"):
                    payload, headers = json.dumps({"message": message}), [("x-amzn-ErrorType", json_code)]
                else:
                    payload, headers = f"<Error><Code>{query_code}</Code><Message>{message}</Message></Error>", []
                _reply(self, status, payload.encode(), headers)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self._server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def mutating(self) -> list[str]:
        """The calls that would change something (HyperPod's creates, updates and deletes)."""
        return [c for c in self.calls if c.startswith("sagemaker:") and not c.startswith(("sagemaker:Describe",
                                                                                          "sagemaker:List"))]

    def __enter__(self) -> "FaultProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
