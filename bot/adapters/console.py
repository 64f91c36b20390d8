"""``parley chat``: a local channel in the terminal, no chat tokens needed.

Type a question (or ``/ask QUESTION``); ``/sources``, ``/points [ID]``, ``/reindex``,
``/help``, ``/quit``.
Answers render as plain text, as they read in a channel. One person types here, so the
service runs without a cooldown and without recording answers for votes.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from parley.bot import phrases
from parley.bot.render.text import describe_build, describe_points, render_plain, render_sources
from parley.bot.service import Refused, Reindexed, Service, User, Wait
from parley.bot.settings import Settings
from parley.index import ParleyError

log = logging.getLogger("parley.console")

SAMPLE_QUESTION = "Is the US in an AI race with China, or should the two cooperate on AI safety?"
ME = User("console", "local")


class Console:
    def __init__(self, service: Service, output: TextIO):
        self.service = service
        self.output = output
        self._reindexing: threading.Thread | None = None

    def say(self, text: str) -> None:
        self.output.write(text + "\n")
        self.output.flush()

    def handle(self, line: str) -> bool:
        """Act on one line of input; ``False`` when the user wants to leave."""
        command, _, rest = line.strip().partition(" ")
        if command in ("/quit", "/exit"):
            return False
        actions: dict[str, Callable[[], None]] = {
            "/help": lambda: self.say(phrases.CONSOLE_HELP),
            "/sources": self.sources,
            "/points": lambda: self.points(rest.strip()),
            "/reindex": self.reindex,
            "/ask": lambda: self.ask(rest),
        }
        if not command:
            return True
        action = actions.get(command) if command.startswith("/") else (lambda: self.ask(line))
        try:
            if action is None:
                self.say(phrases.unknown_command(command))
            else:
                action()
        except BrokenPipeError:
            raise  # the reader went away (`parley chat | head`): not a failure to answer
        except Exception as error:  # noqa: BLE001 — the console's one error hook
            self.failed(error)
        return True

    def failed(self, error: Exception) -> None:
        """The user gets one line; the log gets the trace of anything unexpected."""
        if not isinstance(error, ParleyError):
            log.error("the console failed", exc_info=error)
        self.say(phrases.user_message(error))

    def ask(self, question: str) -> None:
        result = self.service.ask(ME, question)
        self.say(result.text if isinstance(result, Wait) else render_plain(result.answer))

    def sources(self) -> None:
        self.say(render_sources(self.service.sources()))

    def points(self, point_id: str) -> None:
        """The debate map's points; with an id, both sides of that point."""
        if not point_id:
            self.say(describe_points(self.service.points()))
            return
        result = self.service.point(point_id)
        self.say(result.text if isinstance(result, Refused) else render_plain(result))

    def reindex(self) -> None:
        if self._reindexing and self._reindexing.is_alive():
            self.say(phrases.REINDEX_RUNNING)
            return
        self.say(phrases.REINDEX_STARTED)
        self._reindexing = threading.Thread(target=self._reindex, name="reindex", daemon=True)
        self._reindexing.start()

    def _reindex(self) -> None:
        try:
            result = self.service.reindex(ME, admin=True)  # whoever runs the console runs Parley
        except ParleyError as error:
            self.say(phrases.reindex_failed(error))
            return
        except Exception:  # noqa: BLE001 — a background thread: nobody else would see it
            log.exception("re-index failed")
            self.say(phrases.REINDEX_FAILED_UNEXPECTEDLY)
            return
        self.say(describe_build(result.report) if isinstance(result, Reindexed) else result.text)

    def wait_for_reindex(self) -> None:
        if self._reindexing:
            self._reindexing.join()


def run_interactive(console: Console, read: Callable[[str], str]) -> None:
    console.say(phrases.CONSOLE_WELCOME)
    while True:
        try:
            line = read("you> ")
        except EOFError:
            console.say("")
            break
        if not console.handle(line):
            break
    console.wait_for_reindex()


def run(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Start ``parley chat``: interactive on a terminal, one sample question otherwise."""
    from parley.bot.wiring import build_service

    service = build_service(settings, local=True)
    service.ready()  # fail now, with a clear line, if there is no index
    console = Console(service, stdout)
    if not stdin.isatty():
        console.say(f"{phrases.CONSOLE_NOT_A_TERMINAL}\nyou> {SAMPLE_QUESTION}")
        console.handle(SAMPLE_QUESTION)
        return 0
    import readline  # noqa: F401 — line editing and history for input()

    run_interactive(console, input)
    return 0
