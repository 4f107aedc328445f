"""Fault injection on loopback. FaultServer: every call gets the same failure, in the error format
of the calling service's protocol, and every call is recorded. DelayProxy: forwards every call to
a real endpoint and holds requests (or, for chosen operations, the answers) for a while."""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CODES = {  # mode -> (HTTP status, JSON code, EC2 code, query/S3 code)
    "denied": (403, "AccessDeniedException", "UnauthorizedOperation", "AccessDenied"),
    "throttle": (400, "ThrottlingException", "RequestLimitExceeded", "Throttling"),
    "http500": (500, "InternalFailure", "InternalError", "InternalFailure"),
}


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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
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

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2] or self.path
                proxy.calls.append(operation)
                time.sleep(delay)
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
                connection.close()
                if operation in slow_answers:
                    time.sleep(answer_delay)
                try:
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except OSError:  # the client gave up waiting
                    pass

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "DelayProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

