"""User stories of the REST API: `python -m api` and `python -m worker` as real processes, a real
Redis and SQLite, the fake VK and Telegram APIs; every request over real HTTP."""

from __future__ import annotations

import contextlib
import csv
import io
import sqlite3
from pathlib import Path

import httpx

from api.routers.comments import CATALOG_SHORTCUTS
from core.catalog import CATALOG, KeywordsArgs
from core.db import make_engine, make_sessionmaker, migrate
from tests.apitools import (
    ADMIN_TOKEN,
    LONG_WALLS,
    OTHER_TOKEN,
    USER_TOKEN,
    api_env,
    api_running,
    bearer,
    slow_vk,
    wait_status,
)
from tests.conftest import ADMIN_ID, Process
from tests.fakes import FakeTelegram
from tests.faults import database
from tests.report_fixture import STORED
from tests.test_reports_storage import seed

PARSE = "/api/v1/comments/parse/vk/async"
ANALYZE = "/api/v1/comments/analyze/async"
DEMO = "taiga_demo"


async def test_parse_over_http_closes_in_the_chat(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """A CRM enqueues a parse, asks again (same job), follows it to the end; the admin chat it
    named gets the closing message once."""
    env = api_env(app_env, DEFAULT_LANGUAGE="en")
    async with api_running(env, tmp_path, worker=False) as client:
        query = {"group_id": DEMO, "limit": 100000, "notify_chat_id": ADMIN_ID}
        first = await client.post(PARSE, params=query, headers=bearer(USER_TOKEN))
        assert first.status_code == 202, first.text
        data = first.json()["data"]
        job_id = data["job_id"]
        assert first.json()["success"] is True
        assert data["function"] == "parse_vk_comments"
        assert (data["group"], data["limit"]) == (DEMO, 100000)
        assert data["status_url"] == f"/api/v1/arq/status/{job_id}"
        assert data["result_url"] == f"/api/v1/arq/result/{job_id}"
        # No worker yet: the job waits, and the same request returns it instead of a second one.
        again = await client.post(PARSE, params=query, headers=bearer(ADMIN_TOKEN))
        assert again.status_code == 200, again.text
        assert again.json()["data"]["job_id"] == job_id
        assert again.json()["data"]["already_running"] is True
        waiting = await client.get(data["status_url"], headers=bearer(USER_TOKEN))
        assert waiting.json()["status"] == "queued" and waiting.json()["finished_at"] is None
        early = await client.get(data["result_url"], headers=bearer(USER_TOKEN))
        assert early.status_code == 409 and early.json()["success"] is False

        worker = Process("worker", env, tmp_path / "worker.log")
        try:
            done = await wait_status(client, job_id)
            assert done["status"] == "complete", done
            assert done["finished_at"].endswith("Z") and done["enqueued_at"].endswith("Z")
            assert done["result"]["comments_parsed"] > 0
            assert done["function"] == "parse_vk_comments" and done["status_text"]
            result = await client.get(data["result_url"], headers=bearer(USER_TOKEN))
            assert result.status_code == 200, result.text
            assert result.json()["result"] == done["result"] and result.json()["summary"]

            closing = await fake_tg.wait_for_message(ADMIN_ID, job_id, timeout=60)
            assert "finished" in closing.text
            info = await client.get("/api/v1/arq/queue/info", headers=bearer(USER_TOKEN))
            assert info.status_code == 200
            assert info.json()["queue_name"] == env["ARQ_QUEUE_NAME"]
            assert info.json()["workers_alive"] == 1
            assert [m for m in fake_tg.messages(ADMIN_ID) if job_id in m.text] == [closing]
        finally:
            await worker.stop()


async def test_enqueue_any_catalog_job(app_env: dict[str, str], tmp_path: Path) -> None:
    """The generic door: positional args map onto the job's fields in order, as in the chat;
    kwargs by name; the analysis shortcuts pick their catalog job."""
    async with api_running(api_env(app_env), tmp_path) as client:
        positional = await client.post(
            "/api/v1/arq/enqueue",
            json={"function_name": "analyze_text_morphology", "args": ["Щас на рыбалку"]},
            headers=bearer(USER_TOKEN),
        )
        assert positional.status_code == 202, positional.text
        assert positional.json()["data"]["text"] == "Щас на рыбалку"
        done = await wait_status(client, positional.json()["data"]["job_id"])
        assert done["status"] == "complete", done
        lemmas = [lemma for _form, lemma, _pos in done["result"]["tokens"]]
        assert lemmas == ["сейчас", "на", "рыбалка"]

        named = await client.post(
            "/api/v1/arq/enqueue",
            json={"function_name": "extract_keywords", "kwargs": {"group": DEMO, "n": 5}},
            headers=bearer(USER_TOKEN),
        )
        assert named.status_code == 202, named.text
        assert named.json()["data"]["n"] == 5

        batch = await client.post(
            "/api/v1/comments/analyze/async",
            params={"group_id": DEMO, "analysis_type": "morphology"},
            headers=bearer(USER_TOKEN),
        )
        assert batch.status_code == 202, batch.text
        assert batch.json()["data"]["function"] == "process_batch_comments"
        # Nothing of this community is parsed yet: the job fails, saying so.
        failed = await wait_status(client, batch.json()["data"]["job_id"])
        assert failed["status"] == "failed" and DEMO in failed["error"], failed
        keywords = await client.post(
            "/api/v1/comments/analyze/async",
            params={"group_id": DEMO, "analysis_type": "keywords"},
            headers=bearer(USER_TOKEN),
        )
        assert keywords.status_code == 202, keywords.text
        assert keywords.json()["data"]["function"] == "extract_keywords"
        # Report and cleanup run their catalog jobs, with the job's model as the JSON body;
        # a version whose catalog lacks one says so with a 404.
        for path, name in CATALOG_SHORTCUTS.items():
            answer = await client.post(
                f"/api/v1/comments/{path}/async", json={}, headers=bearer(ADMIN_TOKEN)
            )
            if name not in CATALOG:
                assert answer.status_code == 404 and name in answer.json()["message"]
                continue
            assert answer.status_code == 202, answer.text
            assert answer.json()["data"]["function"] == name
            ended = await wait_status(client, answer.json()["data"]["job_id"])
            assert ended["status"] in ("complete", "failed"), ended


async def test_abort_rules(app_env: dict[str, str], tmp_path: Path) -> None:
    """A user token aborts its own running job, not another's; an admin token aborts any;
    an ended job cannot be aborted again."""
    async with slow_vk() as (_vk, slow), api_running(api_env(app_env, **slow), tmp_path) as client:
        jobs = []
        for token, wall in zip((USER_TOKEN, OTHER_TOKEN), LONG_WALLS, strict=True):
            answer = await client.post(PARSE, params={"group_id": wall}, headers=bearer(token))
            assert answer.status_code == 202, answer.text
            jobs.append(answer.json()["data"]["job_id"])
        mine, theirs = jobs
        running = await wait_status(client, mine, frozenset({"in_progress"}))
        assert running["status"] == "in_progress", running

        refused = await client.delete(f"/api/v1/arq/abort/{theirs}", headers=bearer(USER_TOKEN))
        assert refused.status_code == 403, refused.text
        for job_id, token in ((mine, USER_TOKEN), (theirs, ADMIN_TOKEN)):
            answer = await client.delete(f"/api/v1/arq/abort/{job_id}", headers=bearer(token))
            assert answer.status_code == 200, answer.text
            assert answer.json()["job_id"] == job_id
        ended = await wait_status(client, mine)
        assert ended["status"] == "aborted" and ended["finished_at"], ended
        again = await client.delete(f"/api/v1/arq/abort/{mine}", headers=bearer(USER_TOKEN))
        assert again.status_code == 409, again.text
        result = await client.get(f"/api/v1/arq/result/{mine}", headers=bearer(USER_TOKEN))
        assert result.status_code == 200 and result.json()["status"] == "aborted"
        assert (await wait_status(client, theirs))["status"] == "aborted"


def analysed_ids(env: dict[str, str]) -> tuple[set[int], set[int]]:
    """The stored readable comments' VK ids: (analysed, not analysed)."""
    with contextlib.closing(sqlite3.connect(database(env))) as db:
        rows = db.execute("SELECT comment_id, terms FROM vk_comments WHERE deleted = 0").fetchall()
    return {i for i, terms in rows if terms is not None}, {i for i, terms in rows if terms is None}


async def test_analyze_named_comments(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    """`comment_ids=` analyses just those comments of the community (others stay unanalysed),
    lists their lemmas, and names the ids it does not have; asked again, they are done. Then
    the rest of the wall is analysed, its keywords ranked and its report delivered to a chat."""
    env = api_env(app_env, AUTO_ANALYZE="false")
    async with api_running(env, tmp_path) as client:
        parse = await client.post(PARSE, params={"group_id": DEMO}, headers=bearer(USER_TOKEN))
        assert parse.status_code == 202, parse.text
        parsed = await wait_status(client, parse.json()["data"]["job_id"])
        assert parsed["status"] == "complete", parsed
        done, waiting = analysed_ids(env)
        assert not done and len(waiting) > 10
        named = sorted(waiting)[3:6]
        unknown = max(waiting) + 1_000_000
        query = {"group_id": DEMO, "comment_ids": ",".join(map(str, [*named, unknown]))}

        answer = await client.post(ANALYZE, params=query, headers=bearer(USER_TOKEN))
        assert answer.status_code == 202, answer.text
        assert answer.json()["data"]["comment_ids"] == [*named, unknown]
        ended = await wait_status(client, answer.json()["data"]["job_id"])
        assert ended["status"] == "complete", ended
        result = ended["result"]
        assert (result["comments_analyzed"], result["analysed_before"]) == (3, 0)
        assert result["missing_ids"] == [unknown]
        assert sorted(result["lemmas"]) == sorted(map(str, named))
        assert all(result["lemmas"][str(i)] for i in named), result["lemmas"]
        assert "3 named comments analysed" in ended["status_text"]
        assert (
            f"not stored for this community (not parsed yet or deleted on VK): {unknown}"
            in (ended["status_text"])
        )
        done, waiting = analysed_ids(env)
        assert done == set(named), "only the named comments are analysed"

        again = await client.post(ANALYZE, params=query, headers=bearer(USER_TOKEN))
        assert again.status_code == 202, again.text
        repeated = (await wait_status(client, again.json()["data"]["job_id"]))["result"]
        assert (repeated["comments_analyzed"], repeated["analysed_before"]) == (0, 3)
        assert repeated["lemmas"] == result["lemmas"]
        await analyse_the_rest(client, env, waiting)
        await keywords_and_report(client, fake_tg, len(done | waiting))


async def analyse_the_rest(client: httpx.AsyncClient, env: dict[str, str], rest: set[int]) -> None:
    """Without comment_ids the batch analyses every comment not analysed yet."""
    batch = await client.post(ANALYZE, params={"group_id": DEMO}, headers=bearer(USER_TOKEN))
    assert batch.status_code == 202, batch.text
    assert batch.json()["data"]["function"] == "process_batch_comments"
    ended = await wait_status(client, batch.json()["data"]["job_id"])
    assert ended["status"] == "complete", ended
    assert ended["result"]["comments_analyzed"] == len(rest), ended
    assert f"{len(rest)} comments analysed" in ended["status_text"], ended
    done, waiting = analysed_ids(env)
    assert done >= rest and not waiting, "every stored comment is analysed now"


async def keywords_and_report(
    client: httpx.AsyncClient, fake_tg: FakeTelegram, stored: int
) -> None:
    """The community's keywords over HTTP; its report sent to the chat the request named."""
    query = {"group_id": DEMO, "analysis_type": "keywords"}
    keywords = await client.post(ANALYZE, params=query, headers=bearer(USER_TOKEN))
    assert keywords.status_code == 202, keywords.text
    ranked = await wait_status(client, keywords.json()["data"]["job_id"])
    assert ranked["status"] == "complete", ranked
    result = ranked["result"]
    assert result["analyzed_now"] == 0 and result["comments"] > 0, result
    assert len(result["keywords"]) == KeywordsArgs.model_fields["n"].default, result
    for term, score, count in result["keywords"]:
        assert term and score > 0 and 1 <= count <= result["comments"], result
    assert result["keywords"][0][0] in ranked["status_text"], ranked

    # 3650 days: the whole wall (its fixed dates lie within the longest period a report covers).
    report = await client.post(
        "/api/v1/comments/report/async",
        params={"notify_chat_id": ADMIN_ID},
        json={"group": DEMO, "days": 3650},
        headers=bearer(USER_TOKEN),
    )
    assert report.status_code == 202, report.text
    job_id = report.json()["data"]["job_id"]
    made = await wait_status(client, job_id)
    assert made["status"] == "complete", made
    assert made["result"]["delivered"] is True, made
    assert made["result"]["comments"] == made["result"]["rows"] == stored, made
    closing = await fake_tg.wait_for_message(ADMIN_ID, job_id, timeout=60)
    sent = fake_tg.messages(ADMIN_ID)
    assert [m.kind for m in sent] == ["photo", "text", "document", "document", "text"], sent
    chart, summary, csv_doc, xlsx_doc, last = sent
    assert last == closing and "Report for" in closing.text
    assert chart.document_bytes and summary.text
    assert (csv_doc.document_name or "").endswith(".csv")
    assert (xlsx_doc.document_name or "").endswith(".xlsx")
    table = list(csv.reader(io.StringIO((csv_doc.document_bytes or b"").decode("utf-8-sig"))))
    assert len(table) == 1 + stored, "a header and every stored comment"


CLEANUP = "/api/v1/comments/cleanup/async"


async def test_cleanup_over_http_needs_an_admin_token(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    """The cleanup endpoint: a user token gets 403 and nothing happens; the admin token is the
    confirmation the chat asks for, and the job deletes exactly the old rows."""
    db = Path(app_env["DATA_DIR"]) / "vkcomments.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    await migrate(url)
    engine = make_engine(url)
    await seed(make_sessionmaker(engine))
    await engine.dispose()
    async with api_running(api_env(app_env), tmp_path) as client:
        refused = await client.post(CLEANUP, params={"days": 30}, headers=bearer(USER_TOKEN))
        assert refused.status_code == 403, refused.text
        assert "admin token" in refused.json()["message"]
        bad = await client.post(CLEANUP, params={"days": 0}, headers=bearer(ADMIN_TOKEN))
        assert bad.status_code == 422 and bad.json()["field"] == "days", bad.text

        answer = await client.post(CLEANUP, params={"days": 30}, headers=bearer(ADMIN_TOKEN))
        assert answer.status_code == 202, answer.text
        data = answer.json()["data"]
        assert (data["function"], data["days"]) == ("cleanup_old_data", 30)
        done = await wait_status(client, data["job_id"])
        assert done["status"] == "complete", done
        # The report fixture's 3 comments of 35-45 days ago and their post; nothing else.
        assert (done["result"]["comments"], done["result"]["posts"]) == (3, 1), done
        assert "deleted 3 comments and 1 post" in done["status_text"]

        again = await client.post(CLEANUP, headers=bearer(ADMIN_TOKEN))  # RETENTION_DAYS
        repeat = await wait_status(client, again.json()["data"]["job_id"])
        assert repeat["result"]["days"] == 365 and repeat["result"]["comments"] == 0, repeat
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT count(*) FROM vk_comments").fetchone()[0] == STORED + 1 - 3
