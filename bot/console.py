"""``parley chat``: a local channel in the terminal, no chat tokens needed.

Type a question (or ``/ask QUESTION``); ``/sources``, ``/reindex``, ``/help``, ``/quit``.
Answers render as plain text, as they read in a channel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TextIO

from parley.bot.answer import AnswerEngine
from parley.bot.render.text import describe_build, render_plain
from parley.index.served import Reindexer
from parley.index.errors import ParleyError

log = logging.getLogger("parley.console")

SAMPLE_QUESTION = "Is the US in an AI race with China, or should the two cooperate on AI safety?"
HELP = """Ask anything about the US-China AI race-versus-cooperation debate.
  QUESTION or /ask QUESTION   answer from the corpus, quoted and cited
  /sources                    list the documents in the corpus
  /reindex                    re-index the corpus (answers continue meanwhile)
  /help                       this help
  /quit                       leave (Ctrl-D works too)"""


class Console:
    def __init__(self, engine: AnswerEngine, reindexer: Reindexer, output: TextIO):
        self.engine = engine
        self.reindexer = reindexer
        self.output = output
        self._reindexing: threading.Thread | None = None

    def say(self, text: str) -> None:
        self.output.write(text + "\n")
        self.output.flush()

    def handle(self, line: str) -> bool:
        """Act on one line of input; ``False`` when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        command, _, rest = line.partition(" ")
        if command in ("/quit", "/exit"):
            return False
        actions: dict[str, Callable[[], None]] = {
            "/help": lambda: self.say(HELP),
            "/sources": self.sources,
            "/reindex": self.reindex,
            "/ask": lambda: self.ask(rest),
        }
        if command.startswith("/"):
            action = actions.get(command)
            if action is None:
                self.say(f"Unknown command {command}. Type /help for the commands.")
            else:
                action()
        else:
            self.ask(line)
        return True

    def ask(self, question: str) -> None:
        try:
            self.say(render_plain(self.engine.ask(question)))
        except ParleyError as error:
            self.say(str(error))
        except BrokenPipeError:
            raise  # the reader went away (`parley chat | head`): not a failure to answer
        except Exception:  # noqa: BLE001 — the user gets an apology, the log the trace
            log.exception("answering %r failed", question)
            self.say("Sorry, something went wrong while answering. The error has been logged.")

    def sources(self) -> None:
        try:
            sources = self.engine.sources()
        except ParleyError as error:
            self.say(str(error))
            return
        lines = [f"The corpus holds {len(sources)} documents:"]
        for source in sources:
            details = ", ".join(x for x in (source.publisher, source.date, source.url) if x)
            tally = f"{source.stances['race']} race, {source.stances['cooperation']} cooperation, {source.stances['neutral']} neutral"
            lines.append(f"- {source.title} ({details}): {source.passages} passages; {tally}")
        self.say("\n".join(lines))

    def reindex(self) -> None:
        if self._reindexing and self._reindexing.is_alive():
            self.say("A re-index is already running.")
            return

        def work() -> None:
            try:
                self.say(describe_build(self.reindexer.run()))
            except ParleyError as error:
                self.say(f"Re-index failed: {error} The current index is still served.")
            except Exception:  # noqa: BLE001
                log.exception("re-index failed")
                self.say("Re-index failed unexpectedly (logged). The current index is still served.")

        self.say("Re-indexing the corpus in the background; keep asking meanwhile.")
        self._reindexing = threading.Thread(target=work, name="reindex", daemon=True)
        self._reindexing.start()

    def wait_for_reindex(self) -> None:
        if self._reindexing:
            self._reindexing.join()


def run_interactive(console: Console, read: Callable[[str], str]) -> None:
    console.say("Parley — answers from the corpus, in its own words. Type /help for commands.")
    while True:
        try:
            line = read("you> ")
        except EOFError:
            console.say("")
            break
        if not console.handle(line):
            break
    console.wait_for_reindex()
