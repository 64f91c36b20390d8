"""Slack over HTTP: a threaded WSGI server for the bolt app at ``/slack/events``.

Each request gets its own thread, so one slow request never holds back another's 3 s ack;
a deep listen backlog keeps a burst of commands from being reset at the socket.

In front of bolt, every request is checked the way Slack's docs ask: a body of bounded size,
signed with the signing secret over a timestamp no more than five minutes old. Anything else
is answered 401 (413 when too large: its body is dropped as it arrives, never kept) with
one short log line that holds no request content,
before bolt parses it: a malformed timestamp or a binary body cannot reach a traceback, and
a rejected body (questions, user names, response URLs) never reaches the log. A request whose
signature was already seen is a replay (Slack never sends the same timestamp and body twice):
it is acknowledged and dropped, so a captured ``/ask`` cannot be answered twice.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from parley.bot.state.database import StoreUnavailable
from parley.bot.state.events import SeenEvents

log = logging.getLogger("parley.slack")
EVENTS_PATH = "/slack/events"
# Slack's payloads are a few kilobytes; a block action carries its message, tens at most.
MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW_SECONDS = 5 * 60
# A refused body is read and dropped (never kept) up to this much, so that the client, still
# sending, gets its 413 rather than a reset connection; past it, the connection just closes.
MAX_DISCARD_BYTES = 16 * 1024 * 1024


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 resets connections in a burst


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 — stdlib signature
        log.debug("%s %s", self.address_string(), format % args)


def http_server(app: App, host: str, port: int, *, signing_secret: str, seen: SeenEvents) -> WSGIServer:
    """A threaded HTTP server for ``app`` at ``/slack/events``; anything else is 404."""
    handler = SlackRequestHandler(app)
    key = signing_secret.encode()

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != EVENTS_PATH:
            return _reply(start_response, "404 Not Found", b"not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, "405 Method Not Allowed", b"POST only")
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return _reject(start_response, "411 Length Required", "without a valid Content-Length")
        if not 0 <= length <= MAX_BODY_BYTES:
            _discard(environ["wsgi.input"], length)
            return _reject(start_response, "413 Content Too Large", f"of {length:,} bytes")
        body = environ["wsgi.input"].read(length)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not _signed(key, body, timestamp, signature):
            return _reject(start_response, "401 Unauthorized", "unsigned, badly signed or stale")
        if _replayed(seen, signature):
            log.info("Dropped a replayed Slack request (its signature was already answered)")
            return _reply(start_response, "200 OK", b"")
        environ["wsgi.input"] = io.BytesIO(body)  # bolt reads the body again
        try:
            return handler(environ, start_response)
        except Exception:  # noqa: BLE001 — bolt could not even read it (e.g. a number where text goes)
            log.exception("A signed Slack request could not be read; answered 400")
            return _reply(start_response, "400 Bad Request", b"bad request")

    return make_server(host, port, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def _replayed(seen: SeenEvents, signature: str) -> bool:
    """Whether this signature was answered before. If the ledger cannot say (its store is
    locked past the busy timeout, or unreachable), the request goes on: a rare double
    answer is better than a lost question."""
    try:
        return not seen.claim(f"slack-request:{signature}")
    except StoreUnavailable as error:
        log.warning("Could not check a Slack request for replay (%s); answering it", error)
        return False


def _signed(key: bytes, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's check (``v0=`` HMAC-SHA256 of ``v0:timestamp:body``), on the raw bytes: the
    SDK's verifier decodes the body as UTF-8 and parses the timestamp with ``int()``, and
    raises on a binary body, ``abc`` or ``1e3`` (bolt answers that with a 500 and a trace)."""
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return False
    expected = "v0=" + hmac.new(key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _discard(stream, length: int) -> None:
    """Read and drop a refused body, 64 KB at a time, within MAX_DISCARD_BYTES."""
    left = min(max(length, 0), MAX_DISCARD_BYTES)
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            return
        left -= len(chunk)


def _reject(start_response, status: str, why: str) -> list[bytes]:
    log.info("Rejected a Slack request %s", why)
    return _reply(start_response, status, status.split(" ", 1)[1].lower().encode())


def _reply(start_response, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
