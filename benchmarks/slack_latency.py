"""Ack latency of /ask and time to the answer at response_url: real slack-bolt over real
HTTP, signed requests, the Web API and response_url in the local fake Slack.

    .venv/bin/python benchmarks/slack_latency.py [INDEX_DIR]
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parley.bot.answer import AnswerEngine
from parley.index.served import ServedIndex  # noqa: E402
from parley.bot.feedback import FeedbackStore  # noqa: E402
from parley.bot.guard import SeenEvents  # noqa: E402
from parley.index.versions import IndexLocation  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.test_slack import Server  # noqa: E402

engine = AnswerEngine(ServedIndex(IndexLocation(Path(sys.argv[1] if len(sys.argv) > 1 else "data/index"))))
engine.ask("warm up")
db = Path(tempfile.mkdtemp()) / "db.sqlite3"
fake = FakeSlack().start()
server = Server(engine, fake, (FeedbackStore(db), SeenEvents(db)))
acks, answers = [], []
for n in range(20):
    _, _, seconds, response_id = server.command(fake, "/ask", "Should the US slow down AI development, given China?", user=f"U{n}")
    fake.wait_for("/response/" + response_id)
    acks.append(seconds * 1000)
for n in range(20):
    started = time.monotonic()
    _, _, _, response_id = server.command(fake, "/ask", "What is competitive coexistence?", user=f"V{n}")
    arrived = fake.wait_for("/response/" + response_id)[0].at
    answers.append((arrived - started) * 1000)
server.close()
fake.stop()
p95 = lambda values: statistics.quantiles(values, n=100)[94]
print(f"ack ms p50 {statistics.median(acks):.1f} p95 {p95(acks):.1f} | command->answer at response_url ms "
      f"p50 {statistics.median(answers):.1f} p95 {p95(answers):.1f}")
