"""A VK client on the shared token pool, as the worker and the bot make one, and what VK says
of a community: whether it exists and its wall may be read, as a parse needs."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from arq.connections import ArqRedis

from core.i18n import _, use_locale
from core.settings import Settings
from core.vk.client import VkClient
from core.vk.errors import UNREACHABLE, VkError
from core.vk.tokens import REJECTED, TokenPool

# How long /watch waits for VK's word on a community before it takes the watch anyway (the
# watch's own checks then tell what VK says).
CHECK_BOUND_S = 15.0


def vk_client(redis: ArqRedis, settings: Settings, *, max_attempts: int = 6) -> VkClient:
    """A client over every configured token; a token VK rejects is told to the admins."""
    tell_admins = functools.partial(notify_token_set_aside, redis, settings)
    pool = TokenPool(redis, settings.vk_pool, settings.vk_rps, on_set_aside=tell_admins)
    return VkClient(
        pool,
        api_url=settings.vk_api_url,
        version=settings.vk_api_version,
        timeout=settings.vk_timeout,
        max_attempts=max_attempts,
    )


async def notify_admins(
    redis: ArqRedis, settings: Settings, text: str, *, job_id: str | None = None
) -> None:
    """Hand `text` to `send_notification` for NOTIFY_CHAT_ID, else every admin. A `job_id`
    (made one per chat) keeps a rerun of the caller from sending it twice."""
    chats = [settings.notify_chat_id] if settings.notify_chat_id else sorted(settings.admin_ids)
    for chat_id in chats:
        once = f"{job_id}:{chat_id}" if job_id else None
        await redis.enqueue_job("send_notification", _job_id=once, chat_id=chat_id, text=text)


async def notify_token_set_aside(
    redis: ArqRedis, settings: Settings, fingerprint: str, code: int
) -> None:
    """Tell the admins that VK rejected a token (once per token: the pool calls this only in
    the process that set it aside), in the default language."""
    with use_locale(settings.default_language):
        text = _(
            "VK token {fingerprint} is set aside: {reason}. Parsing goes on with the other "
            "tokens; replace it in VK_TOKEN or VK_TOKENS, or it is tried again in a day.",
            fingerprint=fingerprint,
            reason=_(REJECTED[code]),
        )
    await notify_admins(redis, settings, text)


async def resolve_group(client: VkClient, group: str) -> dict[str, Any]:
    """The community's VK object; VkError 100 when VK has none, 18 when it was deleted."""
    response = await client.call("groups.getById", group_id=group)
    groups = response.get("groups", []) if isinstance(response, dict) else response
    if not groups:
        raise VkError.from_code(100, "groups.getById")
    info: dict[str, Any] = groups[0]
    if info.get("deactivated"):
        raise VkError.from_code(18, "groups.getById")
    return info


async def unreachable_reason(redis: ArqRedis, settings: Settings, group: str) -> str | None:
    """Why VK says a parse of `group` cannot read it (none such, deleted, private), in the
    current language; None when it can, or when VK did not tell within CHECK_BOUND_S (no
    token, VK down: the watch's own checks then tell)."""
    if not settings.vk_pool:
        return None
    client = vk_client(redis, settings, max_attempts=2)

    async def read_first_post() -> None:
        info = await resolve_group(client, group)
        await client.call("wall.get", owner_id=-int(info["id"]), count=1)

    try:
        await asyncio.wait_for(read_first_post(), timeout=CHECK_BOUND_S)
    except VkError as error:
        return error.message if error.code in UNREACHABLE else None
    except TimeoutError:
        return None
    return None
