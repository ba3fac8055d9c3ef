"""The webhook endpoint: Telegram posts updates here (behind a reverse proxy or load balancer).

The secret header is checked before the body is read, bodies over MAX_BODY are refused,
connections are bounded and idle ones closed, so an unauthenticated client cannot take memory
or sockets. An update is acknowledged (200) only once it is stored: if storing fails Telegram
sends it again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler, stream_request_body

from .receiver import Receiver

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # bytes: a real update is a few kilobytes
MAX_CONNECTIONS = 100
IDLE_S = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@stream_request_body
class UpdateHandler(RequestHandler):
    def initialize(self, receiver: Receiver, secret: str) -> None:
        self.receiver, self.secret = receiver, secret
        self.body_parts: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        """Runs on the headers, before any of the body is read."""
        if self.request.method != "POST":
            self._refuse(405)
            return
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self._refuse(403)
            return
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            self._refuse(413)

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.finish()
        self.request.connection.close()  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_BODY:
            self._refuse(413)
            return
        self.body_parts.append(chunk)

    async def post(self) -> None:
        try:
            raw: Any = json.loads(b"".join(self.body_parts))
        except ValueError:
            log.warning("webhook: skipped a body that is not JSON")
            return  # 200: sending it again would not make it readable
        if not await self.receiver.accept(raw):
            self.set_status(500)  # not stored: Telegram retries

    def log_exception(self, *args: Any) -> None:  # never let a request line reach the logs
        log.warning("webhook: a request failed")


class BoundedServer(HTTPServer):
    """At most MAX_CONNECTIONS open connections: a new one closes the oldest. Refusing the new
    one instead would let a crowd of idle or half-open connections lock Telegram out until
    they time out; this way the crowd can only push out its own oldest members."""

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self._open: OrderedDict[IOStream, None] = OrderedDict()  # oldest first

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        while len(self._open) >= MAX_CONNECTIONS:
            oldest, _ = self._open.popitem(last=False)
            oldest.close()
        self._open[stream] = None
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        self._open.pop(getattr(server_conn, "stream", None), None)  # type: ignore[arg-type]
        super().on_close(server_conn)


def serve(receiver: Receiver, path: str, secret: str, listen: str, port: int) -> HTTPServer:
    """Start listening on listen:port for POSTs to /path."""
    app = TornadoApp([(f"/{path}", UpdateHandler, {"receiver": receiver, "secret": secret})],
                     log_function=lambda handler: None)
    # Tornado's own limit is only a backstop: UpdateHandler refuses a body over MAX_BODY with
    # 413 (tornado would answer a chunked one with 400).
    server = BoundedServer(app, idle_connection_timeout=IDLE_S, body_timeout=IDLE_S,
                           max_body_size=2 * MAX_BODY, max_header_size=16_384)
    server.listen(port, address=listen)
    return server
