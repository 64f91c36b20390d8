"""The Slack adapter: slash commands, mentions, DMs and buttons in; Block Kit out.

Slack wants every request acknowledged within 3 seconds, so each command acks at once
and answers in a lazy listener (bolt runs it after the ack) through ``response_url``.
Events are acknowledged by bolt before the listener runs; a retried or doubly delivered
event (``app_mention`` and ``message`` for one post) is answered once, keyed on
(channel, ts) in SQLite.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from parley.bot.answer import AnswerEngine
from parley.bot.feedback import FeedbackStore
from parley.bot.guard import Cooldown, SeenEvents, user_message
from parley.bot.render.text import describe_build
from parley.index.served import Reindexer
from parley.bot.render.slack_blocks import FRAMING_ACTION, VOTE_ACTIONS, render_answer, render_sources
from parley.index.errors import BuildLockedError, ParleyError

log = logging.getLogger("parley.slack")
PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
_MENTION = re.compile(r"<@[A-Z0-9]+>")


@dataclass(frozen=True)
class SlackConfig:
    admin_users: tuple[str, ...] = ()  # user ids allowed to /reindex
    cooldown_seconds: float = 10.0
    answer_workers: int = 2


def web_client(token: str, api_base: str) -> WebClient:
    """A Web API client that retries Slack's 429s and 5xx, through ``api_base``."""
    client = WebClient(token=token, base_url=api_base)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)])
    return client


def build_app(*, engine: AnswerEngine, reindexer: Reindexer, feedback: FeedbackStore, seen: SeenEvents,
              config: SlackConfig, client: WebClient, signing_secret: str | None,
              verify_token: bool = True) -> App:
    """The bolt app with every listener registered; serve it over HTTP or Socket Mode."""
    # bolt acks from its own thread pool; if answers ran there too, a burst of questions
    # would keep later acks waiting past Slack's 3 s. Answers go to a bounded pool of
    # their own and bolt's threads return at once.
    app = App(client=client, signing_secret=signing_secret, token_verification_enabled=verify_token,
              listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt"))
    answering = ThreadPoolExecutor(max_workers=config.answer_workers, thread_name_prefix="answer")
    reindexing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
    cooldown = Cooldown(config.cooldown_seconds)

    def guarded(listener: Callable, pool: ThreadPoolExecutor = answering) -> Callable:
        """Run a lazy listener in ``pool``; a failure reaches the user as one short line
        and the log as a trace."""
        def work(respond, kwargs):
            try:
                listener(respond=respond, **kwargs)
            except Exception as error:  # noqa: BLE001
                if not isinstance(error, ParleyError):
                    log.error("%s failed", listener.__name__, exc_info=error)
                respond(text=user_message(error), response_type="ephemeral", replace_original=False)

        @functools.wraps(listener)
        def run(respond, **kwargs):
            pool.submit(work, respond, kwargs)
        return run

    def remember(answer) -> str | None:
        """Record an answer for its vote buttons (a refusal has none)."""
        if not answer.answered:
            return None
        return feedback.record_answer(PLATFORM, answer.question, [c.passage_id for c in answer.citations])

    def post_answer(respond, client: WebClient, command: dict, question: str, *, private: bool) -> None:
        answer = engine.ask(question)
        answer_id = remember(answer)
        for message in render_answer(answer, answer_id):
            sent = respond(text=message.text, blocks=message.blocks,
                           response_type="ephemeral" if private else "in_channel", replace_original=False)
            if sent.status_code == 200:
                continue
            # The response_url failed (expired, or Slack had an error): post through the
            # Web API instead, so the answer is not lost.
            log.warning("response_url answered %s; posting through the Web API", sent.status_code)
            if private:
                client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"],
                                          text=message.text, blocks=message.blocks)
            else:
                client.chat_postMessage(channel=command["channel_id"], text=message.text, blocks=message.blocks)

    # -- /ask ------------------------------------------------------------------------
    def ack_ask(ack, command) -> None:
        ack(response_type="ephemeral", text="Searching the corpus…")

    @guarded
    def answer_ask(respond, command, client) -> None:
        text = " ".join((command.get("text") or "").split())
        private = text.lower().startswith("private ")
        question = text[len("private "):].strip() if private else text
        if not question:
            respond(text="Ask a question after the command, e.g. `/ask is there an AI race?` "
                         "(or `/ask private …` to see the answer alone).", response_type="ephemeral", replace_original=False)
            return
        wait = cooldown.wait(command["user_id"])
        if wait:
            respond(text=f"Please wait {wait:.0f} s before asking again.", response_type="ephemeral", replace_original=False)
            return
        post_answer(respond, client, command, question, private=private)

    app.command("/ask")(ack=ack_ask, lazy=[answer_ask])

    # -- /sources --------------------------------------------------------------------
    def ack_sources(ack) -> None:
        ack(response_type="ephemeral", text="Listing the corpus…")

    @guarded
    def list_sources(respond) -> None:
        for message in render_sources(engine.sources()):
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)

    app.command("/sources")(ack=ack_sources, lazy=[list_sources])

    # -- /reindex --------------------------------------------------------------------
    def may_reindex(user_id: str) -> bool:
        return user_id in config.admin_users

    def ack_reindex(ack, command) -> None:
        if not config.admin_users:
            ack(response_type="ephemeral", text="Re-indexing is not allowed for anyone yet: list admin user "
                                                 "ids in PARLEY_SLACK_ADMIN_USERS to allow it.")
        elif not may_reindex(command["user_id"]):
            ack(response_type="ephemeral", text="Only Parley admins can re-index the corpus.")
        else:
            ack(response_type="ephemeral", text="Re-indexing the corpus; answers continue meanwhile…")

    def run_reindex(respond, command) -> None:
        if not may_reindex(command["user_id"]):
            return
        try:
            report = reindexer.run()
        except BuildLockedError as error:
            respond(text=str(error), response_type="ephemeral", replace_original=False)
            return
        respond(text=describe_build(report), response_type="ephemeral", replace_original=False)

    app.command("/reindex")(ack=ack_reindex, lazy=[guarded(run_reindex, reindexing)])

    # -- mentions, DMs, thread follow-ups ----------------------------------------------
    def answer_in_thread(event: dict, client: WebClient) -> None:
        channel, ts = event["channel"], event["ts"]
        if not seen.claim(f"{PLATFORM}:{channel}:{ts}"):
            return  # a retry, or the other delivery of the same post
        thread_ts = event.get("thread_ts") or ts
        seen.remember_thread(f"{channel}:{thread_ts}")
        question = " ".join(_MENTION.sub("", event.get("text") or "").split())

        def say(**payload) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)

        try:
            if not question:
                say(text="Ask me a question after the mention, e.g. “@Parley is there an AI race?”")
                return
            wait = cooldown.wait(event.get("user", ""))
            if wait:
                say(text=f"Please wait {wait:.0f} s before asking again.")
                return
            answer = engine.ask(question)
            for message in render_answer(answer, remember(answer)):
                say(text=message.text, blocks=message.blocks)
        except Exception as error:  # noqa: BLE001
            if not isinstance(error, ParleyError):
                log.error("answering %s:%s failed", channel, ts, exc_info=error)
            say(text=user_message(error))

    @app.event("app_mention")
    def on_mention(event, client) -> None:
        answering.submit(answer_in_thread, event, client)

    @app.event("message")
    def on_message(event, client, context) -> None:
        if event.get("subtype") or event.get("bot_id") or event.get("user") == context.get("bot_user_id"):
            return  # edits, joins, and our own posts
        is_dm = event.get("channel_type") == "im"
        in_our_thread = event.get("thread_ts") and seen.is_our_thread(f"{event['channel']}:{event['thread_ts']}")
        if is_dm or in_our_thread:
            answering.submit(answer_in_thread, event, client)

    # -- feedback ----------------------------------------------------------------------
    def thanks(stored: bool) -> str:
        return "Thanks, your feedback was recorded." if stored else "That answer is too old to vote on."

    def vote(ack, body, respond) -> None:
        ack()
        action = body["actions"][0]
        kind = "up" if action["action_id"] == VOTE_ACTIONS[0] else "down"
        stored = feedback.record_vote(action["value"], PLATFORM, body["user"]["id"], kind)
        respond(text=thanks(stored), response_type="ephemeral", replace_original=False)

    for action_id in VOTE_ACTIONS:
        app.action(action_id)(vote)

    @app.action(FRAMING_ACTION)
    def wrong_framing(ack, body, respond) -> None:
        ack()
        answer_id, _, number = body["actions"][0]["selected_option"]["value"].partition(":")
        stored = feedback.record_vote(answer_id, PLATFORM, body["user"]["id"], "wrong_framing", int(number))
        respond(text=thanks(stored), response_type="ephemeral", replace_original=False)

    @app.error
    def on_error(error, body) -> None:
        log.error("Slack request failed", exc_info=error)

    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 resets connections in a burst


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 — stdlib signature
        log.debug("%s %s", self.address_string(), format % args)


def http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded HTTP server for ``app`` at ``/slack/events`` (each request its own thread)."""
    handler = SlackRequestHandler(app)

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != EVENTS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        return handler(environ, start_response)

    return make_server(host, port, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
