"""What is going on: this chat's jobs, the queue, the health of the services."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from core import jobstate, storage
from core.i18n import _, ngettext
from core.queue import JobQueue
from core.ui import args_text
from core.vk.tokens import ASIDE_REASONS, TokenState


def create_router() -> Router:
    router = Router(name="info")

    @router.message(Command("jobs"))
    async def jobs(message: Message, queue: JobQueue) -> None:
        """This chat's recent jobs, newest first, by title and arguments."""
        rows = await storage.recent_jobs(queue.sessions, message.chat.id)
        if not rows:
            await message.answer(_("No jobs in this chat yet. Try /help."))
            return
        lines = [_("Recent jobs:")]
        for row, view in zip(
            rows, await jobstate.listed(queue.redis, queue.queue_name, rows), strict=True
        ):
            when = row.enqueued_at.strftime("%Y-%m-%d %H:%M")
            title = jobstate.title_of(row.job_name)
            state = jobstate.status_word(view.status)
            lines.append(
                _(
                    "{when} {title} ({args}) {job_id}: {state}",
                    when=when,
                    title=title,
                    args=args_text(row.args),
                    job_id=row.job_id,
                    state=state,
                )
            )
        await message.answer("\n".join(lines))

    @router.message(Command("queue"))
    async def queue_info(message: Message, queue: JobQueue) -> None:
        """Queued, running and deferred jobs, and live workers."""
        info = await queue.queue_info()
        await message.answer(
            _(
                "Queue {name}: {queued} queued, {running} running, {deferred} deferred; {workers}.",
                name=queue.queue_name,
                queued=info["queued"],
                running=info["running"],
                deferred=info["deferred"],
                workers=ngettext("{n} worker alive", "{n} workers alive", info["workers"]),
            )
        )

    @router.message(Command("health"))
    async def health(message: Message, queue: JobQueue) -> None:
        """Redis, database and workers: reachable or not."""
        report = await queue.health()

        def mark(ok: object) -> str:
            return "✅" if ok else "❌"

        lines = [
            mark(report["redis"]) + " " + _("Redis reachable"),
            mark(report["database"]) + " " + _("Database reachable"),
            mark(report["workers"]) + " " + _("Workers alive: {n}", n=report["workers"]),
            _("Queue length: {n}", n=report["queue"]),
        ]
        rps = f"{queue.settings.vk_rps:g}"
        lines += [token_line(state, rps) for state in report.get("vk_tokens", [])]
        await message.answer("\n".join(lines))

    return router


def token_line(state: TokenState, rps: str) -> str:
    """A VK token by its fingerprint: usable and how busy, or set aside and why."""
    if state.aside_code is not None:
        code = state.aside_code
        reason = (
            _(ASIDE_REASONS[code]) if code in ASIDE_REASONS else _("VK error {code}", code=code)
        )
        hours = max(1, round(state.aside_for_s / 3600))
        return "❌ " + ngettext(
            "VK token {fingerprint}: set aside, {reason}; tried again in {n} hour",
            "VK token {fingerprint}: set aside, {reason}; tried again in {n} hours",
            hours,
            fingerprint=state.fingerprint,
            reason=reason,
        )
    return "✅ " + ngettext(
        "VK token {fingerprint}: ok, {n} request in the last minute (at most {rps} a second)",
        "VK token {fingerprint}: ok, {n} requests in the last minute (at most {rps} a second)",
        state.last_minute,
        fingerprint=state.fingerprint,
        rps=rps,
    )
