"""Two worker processes parsing two communities at once share one VK pace per token."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from fakevk.api import FakeVK
from tests.conftest import ADMIN_ID, FISHING_GROUP, count_comments, fishing_group, running
from tests.fakes import FakeTelegram


async def test_two_workers_stay_under_vk_rps(
    app_env: dict[str, str], fake_tg: FakeTelegram, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """Both parses finish with every comment, and VK never sees more than VK_RPS requests/s."""
    # One job per worker at a time, so the two parses land in two processes.
    env = {**app_env, "AUTO_ANALYZE": "false", "ARQ_MAX_JOBS": "1"}
    async with running(env, tmp_path, workers=2) as processes:
        await fake_tg.wait_for_call("setMyCommands", timeout=180)  # the bot is up
        async with asyncio.timeout(180):  # until both workers' heartbeats count them
            while True:
                sent = fake_tg.send_text("/queue", user_id=ADMIN_ID)
                queue = await fake_tg.wait_for_message(ADMIN_ID, "Queue", after=sent, timeout=30)
                if "2 workers alive" in (queue.text or ""):
                    break
                await asyncio.sleep(0.5)
        first = fake_tg.send_text("/parse taiga_demo 100000", user_id=ADMIN_ID)
        second = fake_tg.send_text("/parse fishing_club 100000", user_id=ADMIN_ID)
        for sent in (first, second):
            await fake_tg.wait_for_message(ADMIN_ID, "/status", after=sent, timeout=30)
        await fake_tg.wait_for(
            lambda tg: len([m for m in tg.messages(ADMIN_ID) if "finished" in (m.text or "")]) == 2,
            timeout=90,
        )
        finals = " ".join(m.text or "" for m in fake_tg.messages(ADMIN_ID))
        assert f"{count_comments(20261127, readable=True)} new comments" in finals
        assert (
            f"{count_comments(FISHING_GROUP, [fishing_group()], readable=True)} new comments"
            in finals
        )
        # Each job ran in its own process: the two parses really overlapped in two workers.
        ran = [len(re.findall(r"parse_vk_comments", p.output())) for p in processes[:2]]
        assert all(ran), ran
    assert fake_vk.stats.max_rate <= 3, fake_vk.stats
    assert fake_vk.stats.error6 == 0, fake_vk.stats
