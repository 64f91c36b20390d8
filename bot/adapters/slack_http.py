"""Slack over HTTP: a threaded WSGI server for the bolt app at ``/slack/events``.

Each request gets its own thread, so one slow request never holds back another's 3 s ack;
a deep listen backlog keeps a burst of commands from being reset at the socket.
"""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("parley.slack")
EVENTS_PATH = "/slack/events"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 resets connections in a burst


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 — stdlib signature
        log.debug("%s %s", self.address_string(), format % args)


def http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded HTTP server for ``app`` at ``/slack/events``; anything else is 404."""
    handler = SlackRequestHandler(app)

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != EVENTS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        return handler(environ, start_response)

    return make_server(host, port, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
