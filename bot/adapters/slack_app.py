"""The Slack adapter: the bolt app, where its listeners run, its one error hook, and how it
starts (Socket Mode with an app token, else HTTP at ``/slack/events``).

bolt acknowledges from its own thread pool. If answers ran there too, a burst of questions
would keep later acks waiting past Slack's 3 s, so lazy listeners run in bounded pools of
Parley's own (``AnswerPools``) and bolt's threads return at once.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltRequest
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from parley.bot import phrases
from parley.bot.adapters.slack_http import EVENTS_PATH, http_server
from parley.bot.adapters.slack_listeners import SlackListeners
from parley.bot.render.slack_blocks import FRAMING_ACTION, MORE_ACTION, POINT_ACTION, REVIEW_ACTIONS, VOTE_ACTIONS
from parley.bot.service import Ready, Service
from parley.bot.settings import Settings, SettingsError
from parley.bot.state.events import SeenEvents

log = logging.getLogger("parley.slack")


@dataclass(frozen=True)
class SlackConfig:
    admin_users: tuple[str, ...]  # user ids allowed to /reindex
    answer_workers: int

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig:
        return cls(admin_users=tuple(settings.slack_admin_users), answer_workers=settings.answer_workers)


def web_client(token: str, api_base: str) -> WebClient:
    """A Web API client that retries Slack's 429s and 5xx, through ``api_base``."""
    client = WebClient(token=token, base_url=api_base)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)])
    return client


def build_app(service: Service, *, seen: SeenEvents, config: SlackConfig, client: WebClient,
              signing_secret: str | None, verify_token: bool = True) -> App:
    """The bolt app with every listener registered; serve it over HTTP or Socket Mode."""
    app = App(client=client, signing_secret=signing_secret, token_verification_enabled=verify_token,
              listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt"))
    listeners = SlackListeners(service, seen, config.admin_users)
    register_listeners(app, listeners)
    reindexing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
    app.listener_runner.lazy_listener_runner = AnswerPools(
        app, ThreadPoolExecutor(max_workers=config.answer_workers, thread_name_prefix="answer"),
        {listeners.run_reindex: reindexing, listeners.decide: reindexing})
    return app


def register_listeners(app: App, listeners: SlackListeners) -> None:
    """Every command, event and action, and the one error hook."""
    app.command("/ask")(ack=listeners.ack_ask, lazy=[listeners.answer_ask])
    app.command("/sources")(ack=listeners.ack_sources, lazy=[listeners.list_sources])
    app.command("/points")(ack=listeners.ack_points, lazy=[listeners.list_points])
    app.command("/reindex")(ack=listeners.ack_reindex, lazy=[listeners.run_reindex])
    app.command("/review")(ack=listeners.ack_review, lazy=[listeners.show_claim])
    app.event("app_mention")(ack=listeners.acknowledged, lazy=[listeners.answer_in_thread])
    app.event("message", matchers=[listeners.addressed_to_us])(
        ack=listeners.acknowledged, lazy=[listeners.answer_in_thread])
    app.event("message")(listeners.acknowledged)  # any other post: acked (Slack retries a 404), nothing said
    for action_id in VOTE_ACTIONS:
        app.action(action_id)(listeners.vote)
    app.action(FRAMING_ACTION)(listeners.wrong_framing)
    app.action(MORE_ACTION)(ack=listeners.ack_more, lazy=[listeners.show_more])
    app.action(POINT_ACTION)(ack=listeners.ack_point, lazy=[listeners.show_point])
    for action_id in REVIEW_ACTIONS.values():
        app.action(action_id)(ack=listeners.ack_decision, lazy=[listeners.decide])
    app.error(listeners.on_error)


class AnswerPools(LazyListenerRunner):
    """Runs bolt's lazy listeners in Parley's bounded pools (``answering``, or the pool a
    listener is routed to), and hands their failures to the app's error hook: bolt's own
    runner would only log one line and leave the user waiting."""

    def __init__(self, app: App, answering: Executor, routes: dict[Callable[..., None], Executor]):
        self.app = app
        self.logger = app.logger
        self.answering = answering
        self.routes = routes

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        self.routes.get(function, self.answering).submit(self.run, function, request)

    def run(self, function: Callable[..., None], request: BoltRequest) -> None:
        try:
            function(**build_required_kwargs(logger=self.logger, required_arg_names=get_arg_names_of_callable(function),
                                             request=request, response=None, this_func=function))
        except Exception as error:  # noqa: BLE001 — to the one error hook, which tells the user
            try:
                self.app.listener_runner.listener_error_handler.handle(error=error, request=request, response=None)
            except Exception:  # noqa: BLE001 — a pool drops what it is not given: log it here
                log.exception("A Slack listener failed and so did its error handler")


# -- starting up ---------------------------------------------------------------------

def _credentials(settings: Settings) -> tuple[str, str | None]:
    """The bot token and the signing secret; a missing one is named, never shown."""
    missing = [] if settings.slack_bot_token else ["SLACK_BOT_TOKEN"]
    if not settings.slack_app_token and not settings.slack_signing_secret:
        missing.append("SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    if missing or settings.slack_bot_token is None:
        raise SettingsError(f"Slack needs {' and '.join(missing)} in the environment or .env (README, section Slack).")
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    return settings.slack_bot_token.get_secret_value(), secret


def _build(settings: Settings, *, verify_token: bool) -> tuple[App, Service, SeenEvents, str | None]:
    from parley.bot.wiring import build_service

    token, secret = _credentials(settings)
    service = build_service(settings)
    service.warm_up()
    seen = SeenEvents(service.feedback.database)  # the votes' store: one pool per process
    app = build_app(service, seen=seen, config=SlackConfig.from_settings(settings),
                    client=web_client(token, settings.slack_api_base), signing_secret=secret,
                    verify_token=verify_token)
    return app, service, seen, secret


def check(settings: Settings) -> Ready:
    """Start up as ``run`` does, without calling Slack (the token check is a call): what would be served."""
    return _build(settings, verify_token=False)[1].ready()


def run(settings: Settings) -> None:
    """Serve until stopped: Socket Mode when there is an app token, else HTTP."""
    app, _, seen, secret = _build(settings, verify_token=True)
    if settings.slack_app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        print(phrases.slack_serving(None, EVENTS_PATH), file=sys.stderr)
        SocketModeHandler(app, settings.slack_app_token.get_secret_value(), web_client=app.client).start()
        return
    assert secret is not None  # _credentials asks for one when there is no app token
    server = http_server(app, "0.0.0.0", settings.slack_port, signing_secret=secret, seen=seen)
    print(phrases.slack_serving(settings.slack_port, EVENTS_PATH), file=sys.stderr)
    server.serve_forever()
