"""One small named listener per Slack command, event and action (bolt's starter-template
shape; ``slack_app.register_listeners`` wires them to the app).

Commands acknowledge within Slack's 3 s (``ack_*``) and answer in a lazy listener through
``response_url``, falling back to the Web API when that fails; the More button, which asks
again, and a menu of the debate map's points are acknowledged and answered (to the user
alone) the same lazy way. Events are acknowledged by bolt before anything runs; a retried
or doubly delivered post (``app_mention`` and ``message`` for one post) is answered once,
keyed on (channel, ts) in SQLite. Failures are raised to the app's one error hook, ``on_error``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from parley.bot import phrases
from parley.bot.answer.question import is_blank
from parley.bot.render.chart import FILENAME as CHART_FILE
from parley.bot.render.chart import sources_chart
from parley.bot.render.slack_blocks import (
    REVIEW_ACTIONS,
    VOTE_ACTIONS,
    SlackMessage,
    escape,
    render_answer,
    render_point,
    render_points,
    render_review,
    render_sources,
)
from parley.bot.render.text import describe_build
from parley.bot.service import Asked, Refused, Reindexed, Service, User, Wait
from parley.bot.state.database import StoreUnavailable
from parley.bot.state.events import SeenEvents
from parley.index import ParleyError

log = logging.getLogger("parley.slack")
PLATFORM = "slack"
_MENTION = re.compile(r"<@[A-Z0-9]+>")
_REVIEW_CHOICE = {action: choice for choice, action in REVIEW_ACTIONS.items()}


def _where(event: Any) -> tuple[str, str, str] | None:
    """(channel, ts, thread to answer in) when the event carries them as text, else ``None``:
    events are JSON from the network, and a number or a list where Slack sends text must not
    reach code that would fail after the ack, where nobody would hear of it."""
    if not isinstance(event, dict):
        return None
    channel, ts, thread = event.get("channel"), event.get("ts"), event.get("thread_ts")
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
        return None
    return channel, ts, thread if isinstance(thread, str) and thread else ts


def _text_of(event: dict, key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def _ephemeral(respond: Respond, text: str, **blocks: Any) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False, **blocks)


class SlackListeners:
    """The listeners, holding what they need: the service, the shared event ledger, and the
    Slack user ids allowed to /reindex (a Slack fact: the service only hears yes or no)."""

    def __init__(self, service: Service, seen: SeenEvents, admin_users: tuple[str, ...]):
        self.service = service
        self.seen = seen
        self.admin_users = admin_users

    # -- /ask ------------------------------------------------------------------------
    def ack_ask(self, ack: Ack) -> None:
        ack(response_type="ephemeral", text=phrases.SEARCHING)

    def answer_ask(self, respond: Respond, command: dict, client: WebClient) -> None:
        text = " ".join((command.get("text") or "").split())
        private = text.lower().startswith("private ")
        question = text[len("private "):].strip() if private else text
        if is_blank(question):
            _ephemeral(respond, phrases.ASK_HINT)
            return
        result = self.service.ask(User(PLATFORM, command["user_id"]), question)
        if isinstance(result, Wait):
            _ephemeral(respond, result.text)
            return
        for message in render_answer(result.answer, result.answer_id):
            self.post_answer(respond, client, command, message, private=private)

    def post_answer(self, respond: Respond, client: WebClient, command: dict, message: SlackMessage, *,
                    private: bool) -> None:
        sent = respond(text=message.text, blocks=message.blocks,
                       response_type="ephemeral" if private else "in_channel", replace_original=False)
        if sent.status_code == 200:
            return
        # The response_url failed (expired, or Slack had an error): post through the Web
        # API instead, so the answer is not lost.
        log.warning("response_url answered %s; posting through the Web API", sent.status_code)
        if private:
            client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"],
                                      text=message.text, blocks=message.blocks)
        else:
            client.chat_postMessage(channel=command["channel_id"], text=message.text, blocks=message.blocks)

    # -- /sources --------------------------------------------------------------------
    def ack_sources(self, ack: Ack) -> None:
        ack(response_type="ephemeral", text=phrases.LISTING)

    def list_sources(self, respond: Respond, command: dict, client: WebClient) -> None:
        """The documents, privately; then the chart, in the user's DM with Parley (an upload
        cannot be ephemeral)."""
        sources = self.service.sources()
        for message in render_sources(sources):
            _ephemeral(respond, message.text, blocks=message.blocks)
        dm = client.conversations_open(users=command["user_id"])["channel"]["id"]
        client.files_upload_v2(channel=dm, file=sources_chart(sources), filename=CHART_FILE,
                               title=phrases.CHART_TITLE, initial_comment=phrases.CHART_COMMENT)
        _ephemeral(respond, phrases.CHART_SENT)

    # -- /points and its menus: the debate map, privately ---------------------------------
    def ack_points(self, ack: Ack) -> None:
        ack(response_type="ephemeral", text=phrases.LISTING_POINTS)

    def list_points(self, respond: Respond) -> None:
        """The map's points with a menu to pick one, or why there are none."""
        points = self.service.points()
        if not points:
            _ephemeral(respond, escape(phrases.NO_POINTS))
            return
        for message in render_points(points):
            _ephemeral(respond, message.text, blocks=message.blocks)

    def ack_point(self, ack: Ack) -> None:
        ack()

    def show_point(self, action: dict, respond: Respond) -> None:
        """A point chosen from a menu: both sides of it, and a menu of its related points."""
        result = self.service.point(action["selected_option"]["value"])
        if isinstance(result, Refused):  # an id the map no longer has (re-indexed since the menu was sent)
            _ephemeral(respond, escape(result.text))
            return
        for message in render_point(result):
            _ephemeral(respond, message.text, blocks=message.blocks)

    # -- /reindex --------------------------------------------------------------------
    def ack_reindex(self, ack: Ack, command: dict) -> None:
        if not self.admin_users:
            ack(response_type="ephemeral", text=phrases.REINDEX_NOBODY_ALLOWED)
            return
        refused = self.service.may_reindex(User(PLATFORM, command["user_id"]), admin=self.is_admin(command))
        ack(response_type="ephemeral", text=refused.text if refused else phrases.REINDEX_STARTED)

    def run_reindex(self, respond: Respond, command: dict) -> None:
        user, admin = User(PLATFORM, command["user_id"]), self.is_admin(command)
        if self.service.may_reindex(user, admin=admin):
            return  # the ack already said why not
        result = self.service.reindex(user, admin=admin)
        _ephemeral(respond, describe_build(result.report) if isinstance(result, Reindexed) else result.text)

    def is_admin(self, command: dict) -> bool:
        return command["user_id"] in self.admin_users

    # -- /review and its buttons: a curator's framing decisions, privately ----------------
    def ack_review(self, ack: Ack, command: dict) -> None:
        if not self.is_admin(command):
            ack(response_type="ephemeral", text=phrases.review_refused(PLATFORM))
            return
        ack(response_type="ephemeral", text=phrases.REVIEW_LOOKING)

    def show_claim(self, respond: Respond, command: dict) -> None:
        if self.is_admin(command):
            self.send_next_claim(respond, User(PLATFORM, command["user_id"]))

    def ack_decision(self, ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        if body["user"]["id"] not in self.admin_users:
            _ephemeral(respond, phrases.review_refused(PLATFORM))

    def decide(self, body: dict, action: dict, respond: Respond) -> None:
        user_id = body["user"]["id"]
        if user_id not in self.admin_users:
            return  # the ack said why not
        user, choice = User(PLATFORM, user_id), _REVIEW_CHOICE[action["action_id"]]
        if choice == "skip":
            self.service.skip(user, action["value"])
            said = ""
        else:
            said = self.service.review(user, admin=True, key=action["value"], framing=choice).text + "\n\n"
        self.send_next_claim(respond, user, said)

    def send_next_claim(self, respond: Respond, user: User, said: str = "") -> None:
        claim = self.service.next_claim(user, admin=True)
        if isinstance(claim, Refused):
            _ephemeral(respond, escape(said + claim.text))
            return
        message = render_review(said, claim)
        _ephemeral(respond, message.text, blocks=message.blocks)

    # -- mentions, DMs, follow-ups in our threads ----------------------------------------
    def acknowledged(self) -> None:
        """Bolt acknowledges events itself; an answer, if any, comes from ``answer_in_thread``."""

    def addressed_to_us(self, event: dict, context: BoltContext) -> bool:
        """A ``message`` event Parley should answer: a DM, or a post in a thread it answers in."""
        if event.get("subtype") or event.get("bot_id") or event.get("user") == context.get("bot_user_id"):
            return False  # edits, joins, and our own posts
        if event.get("channel_type") == "im":
            return True
        where = _where(event)
        return bool(where and event.get("thread_ts")) and self._is_our_thread(f"{where[0]}:{where[2]}")

    def _is_our_thread(self, key: str) -> bool:
        try:
            return self.seen.is_our_thread(key)
        except StoreUnavailable:
            return False  # until the store is back, follow-ups need a mention: never answer others' threads

    def _first_delivery(self, key: str, thread: str) -> bool:
        """Claim the post; when the store cannot say (locked, unreachable), answer it: a
        rare double answer is better than a lost question."""
        try:
            if not self.seen.claim(key):
                return False
            self.seen.remember_thread(thread)
        except StoreUnavailable as error:
            log.warning("Could not check a Slack post for a second delivery (%s); answering it", error)
        return True

    def answer_in_thread(self, event: dict, client: WebClient) -> None:
        where = _where(event)
        if where is None:
            log.warning("A Slack %s event had no usable channel or timestamp; it was not answered",
                        _text_of(event, "type") or "unknown")
            return
        channel, ts, thread_ts = where
        if not self._first_delivery(f"{PLATFORM}:{channel}:{ts}", f"{channel}:{thread_ts}"):
            return  # a retry, or the other delivery of the same post
        question = " ".join(_MENTION.sub("", _text_of(event, "text")).split())
        if is_blank(question):
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=phrases.MENTION_HINT)
            return
        result = self.service.ask(User(PLATFORM, _text_of(event, "user")), question)
        if isinstance(result, Wait):
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=result.text)
            return
        for message in render_answer(result.answer, result.answer_id):
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks)

    # -- votes -------------------------------------------------------------------------
    def vote(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        kind = "up" if action["action_id"] == VOTE_ACTIONS[0] else "down"
        voted = self.service.vote(User(PLATFORM, body["user"]["id"]), action["value"], kind)
        _ephemeral(respond, voted.text)

    def wrong_framing(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        answer_id, _, number = action["selected_option"]["value"].partition(":")
        voted = self.service.vote(User(PLATFORM, body["user"]["id"]), answer_id, "wrong_framing", int(number))
        _ephemeral(respond, voted.text)

    # -- More: the complete answer, for the presser alone ----------------------------------
    def ack_more(self, ack: Ack) -> None:
        ack()

    def show_more(self, body: dict, action: dict, respond: Respond) -> None:
        result = self.service.more(User(PLATFORM, body["user"]["id"]), action["value"])
        if not isinstance(result, Asked):
            _ephemeral(respond, result.text)
            return
        for message in render_answer(result.answer, result.answer_id):
            _ephemeral(respond, message.text, blocks=message.blocks)

    # -- the app's one error hook --------------------------------------------------------
    def on_error(self, error: Exception, body: dict, context: BoltContext, client: WebClient,
                 respond: Respond) -> None:
        """Whatever failed, the user gets one short line where they asked (the thread of
        their post, or an ephemeral reply) and the log gets the trace."""
        if not isinstance(error, ParleyError):
            log.error("Slack request failed", exc_info=error)
        text = escape(phrases.user_message(error))
        event = body.get("event") if isinstance(body, dict) else None
        where = _where(event)
        try:
            if where and (event.get("type") == "app_mention" or self.addressed_to_us(event, context)):
                client.chat_postMessage(channel=where[0], thread_ts=where[2], text=text)
            elif context.response_url:
                _ephemeral(respond, text)
        except Exception as telling:  # noqa: BLE001 — the error is logged above; say this one too
            log.error("Could not tell the Slack user about the failure", exc_info=telling)
