"""A real HTTP receiver on loopback for the webhook tests.

It checks each request's signature itself, with hmac directly, independently of
our signing code (`servicepulse.notify.webhooks`), so a bug there cannot hide.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Keeps every POST as a dict: path, headers, raw, body (parsed JSON), event, delivery, valid.

    ``valid`` is true when the request carries a fresh signature made with ``secret``.
    The first ``fail_first`` tries of each delivery id are answered 503; an invalid
    signature is answered 401 when a secret is set (an unsigned request 200: Slack and Teams channels are not signed).
    """

    def __init__(self, secret: str | None = None, fail_first: int = 0):
        self.secret = secret
        self.fail_first = fail_first
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                call = receiver._record(self.path, dict(self.headers), raw)
                self.send_response(receiver._status(call))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base_url + "/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, path: str, headers: dict, raw: bytes) -> dict:
        call = {"path": path, "headers": headers, "raw": raw, "body": json.loads(raw) if raw else None,
                "event": headers.get("X-Servicepulse-Event"), "delivery": headers.get("X-Servicepulse-Delivery"),
                "valid": self._valid(headers, raw)}
        with self._lock:
            self.calls.append(call)
            call["try"] = sum(c["delivery"] == call["delivery"] for c in self.calls)
        return call

    def _valid(self, headers: dict, raw: bytes) -> bool:
        stamp, signature = headers.get("X-Servicepulse-Timestamp"), headers.get("X-Servicepulse-Signature")
        if not self.secret or not stamp or not signature:
            return False
        expected = "sha256=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature) and abs(time.time() - int(stamp)) < 300

    def _status(self, call: dict) -> int:
        if call["try"] <= self.fail_first:
            return 503
        signed = "X-Servicepulse-Signature" in call["headers"]
        return 401 if self.secret and signed and not call["valid"] else 200

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
