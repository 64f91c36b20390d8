"""Defer and answer latency of /ask through the real discord.py client and the fake Discord.

    .venv/bin/python benchmarks/discord_latency.py [INDEX_DIR]
"""
import asyncio, os, statistics, sys, tempfile
from pathlib import Path
os.environ["HF_HUB_OFFLINE"]="1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from parley.index.versions import IndexLocation
from parley.bot.answer import AnswerEngine
from parley.index.served import ServedIndex
from parley.bot.feedback import FeedbackStore
from tests.test_discord import running_bot
from tests.fakes.discord import BOT_ID
engine=AnswerEngine(ServedIndex(IndexLocation(Path(sys.argv[1] if len(sys.argv) > 1 else "data/index"))))
engine.ask("warm up")
fb=FeedbackStore(Path(tempfile.mkdtemp()) / "votes.sqlite3")
async def main():
    async with running_bot(engine, fb) as (fake, bot):
        defer=[]; e2e=[]
        for n in range(20):  # one at a time: latency of a single ask
            token=await fake.slash("ask", {"question": "Should the US slow down AI development, given China?"}, user_id=100+n)
            cb=(await fake.wait_for("POST", f"/{token}/callback"))[0]
            fu=(await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            defer.append((cb.at-fake.interactions[token])*1000); e2e.append((fu.at-fake.interactions[token])*1000)
        tokens=[await fake.slash("ask", {"question": "What is competitive coexistence?"}, user_id=500+n) for n in range(20)]
        burst=[]
        for t in tokens:
            cb=(await fake.wait_for("POST", f"/{t}/callback"))[0]; burst.append((cb.at-fake.interactions[t])*1000)
            await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{t}", timeout=60)
    q=lambda v,p: statistics.quantiles(v,n=100)[p-1]
    print("sequential defer ms p50 %.1f p95 %.1f | interaction->follow-up ms p50 %.1f p95 %.1f" % (statistics.median(defer), q(defer,95), statistics.median(e2e), q(e2e,95)))
    print("burst of 20 at once: defer ms p50 %.1f p95 %.1f max %.1f" % (statistics.median(burst), q(burst,95), max(burst)))
asyncio.run(main())
