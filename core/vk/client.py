"""Async VK API client on top of vk_api: a shared token pool, retries, `execute` batching."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError, Captcha

from core.i18n import _
from core.vk.errors import VkError
from core.vk.tokens import DAILY_LIMIT, REJECTED, TokenPool

log = logging.getLogger(__name__)

T = TypeVar("T")

OFFICIAL_URL = "https://api.vk.ru/method"
MAX_EXECUTE_CALLS = 25
# Codes with which VK refuses `execute` itself for this token (a service or group token).
_EXECUTE_REFUSED = {3, 15, 27, 28}
_TOO_BIG = 13
# Codes after which the token is set aside and the request goes again with another one.
_SET_ASIDE = {*REJECTED, DAILY_LIMIT}


class _RedirectedSession(requests.Session):
    """A requests session that sends vk_api's calls to VK_API_URL with a timeout.

    vk_api hard-codes the official address, so the base URL is swapped here.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        text = url.decode() if isinstance(url, bytes) else url
        if text.startswith(OFFICIAL_URL):
            text = self.base_url + text[len(OFFICIAL_URL) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, text, *args, **kwargs)


@dataclass(frozen=True)
class Call:
    """One API call to run alone or inside an `execute` batch."""

    method: str
    params: dict[str, Any]


Take = Callable[[], list[Call]]


def _execute_code(calls: list[Call]) -> str:
    body = ",".join(f"API.{c.method}({json.dumps(c.params, ensure_ascii=False)})" for c in calls)
    return f"return [{body}];"


def _execute_results(calls: list[Call], raw: dict[str, Any]) -> list[Any | VkError]:
    """Each call's result, or its own error in its place (VK answers `false` and lists why)."""
    errors = iter(raw.get("execute_errors") or [])
    results: list[Any | VkError] = []
    for call, value in zip(calls, raw["response"], strict=False):
        if value is False:
            info: dict[str, Any] = next(errors, {"error_code": 0})
            results.append(VkError.from_code(int(info.get("error_code", 0)), call.method))
        else:
            results.append(value)
    return results


class VkClient:
    """Every call waits for a slot of the shared token pool, then retries what VK says to."""

    def __init__(
        self,
        pool: TokenPool,
        *,
        api_url: str = OFFICIAL_URL,
        version: str = "5.199",
        timeout: float = 20.0,
        max_attempts: int = 6,
        lanes_per_token: int = 3,
    ) -> None:
        self.pool = pool
        self.max_attempts = max_attempts
        self.batching = True
        self.requests_sent = 0
        # Requests a caller should keep in flight to use every token's pace.
        self.parallel = lanes_per_token * len(pool.tokens)
        # vk_api serialises calls per instance with a lock; one instance per lane lets slow
        # responses overlap instead of stalling the pace. Each request names its token itself,
        # so any lane serves any token.
        self._lanes: asyncio.Queue[vk_api.VkApi] = asyncio.Queue()
        for _lane in range(self.parallel):
            api = vk_api.VkApi(api_version=version, session=_RedirectedSession(api_url, timeout))
            api.RPS_DELAY = 0  # the shared pool paces instead
            api.error_handlers.pop(vk_api.vk_api.TOO_MANY_RPS_CODE, None)
            self._lanes.put_nowait(api)

    async def call(self, method: str, **params: Any) -> Any:
        """One plain API call; returns `response`."""
        answer = await self._request(method, lambda: params)
        assert answer is not None  # the params were there to send
        return answer["response"]

    async def run(self, calls: list[Call]) -> list[Any | VkError]:
        """Run calls, in `execute` batches where the token allows.

        A call's own failure comes back in place of its result; a failure of the request
        itself (after retries) raises.
        """
        if not (self.batching and len(calls) > 1):
            return await self._each(calls)
        results: list[Any | VkError] = []
        for start in range(0, len(calls), MAX_EXECUTE_CALLS):
            results += await self._execute(calls[start : start + MAX_EXECUTE_CALLS])
        return results

    async def run_taken(self, take: Take) -> list[Any | VkError]:
        """Run up to 25 calls in one `execute`, chosen at the last moment: `take` is asked once a
        lane and a token's slot are free, so the batch holds what queued up while it waited (a
        batch filled when it began to wait went out part-empty). Returns the results of the
        calls `take` gave, as `run` does; nothing is sent when it gives nothing."""
        taken: list[Call] = []

        def execute_code() -> dict[str, Any] | None:
            taken.extend(take()[:MAX_EXECUTE_CALLS])
            return {"code": _execute_code(taken)} if taken else None

        if not self.batching:
            return await self._each(take())
        try:
            raw = await self._request("execute", execute_code)
        except VkError as error:
            if not taken:  # refused before a slot (every token set aside): say it to them
                taken += take()[:MAX_EXECUTE_CALLS]
            return await self._refused(taken, error)
        return [] if raw is None else _execute_results(taken, raw)

    async def _execute(self, calls: list[Call]) -> list[Any | VkError]:
        return await self.run_taken(lambda: calls)

    async def _refused(self, calls: list[Call], error: VkError) -> list[Any | VkError]:
        """What an `execute` VK refused becomes: plain calls, two halves, or the error."""
        if error.code in _EXECUTE_REFUSED:
            log.info("execute is not available for this token; using plain calls")
            self.batching = False
            return await self._each(calls)
        if error.code == _TOO_BIG and len(calls) > 1:
            half = len(calls) // 2
            return await self._execute(calls[:half]) + await self._execute(calls[half:])
        return [error] * len(calls)

    async def _each(self, calls: list[Call]) -> list[Any | VkError]:
        return list(await asyncio.gather(*(self._plain(c) for c in calls)))

    async def _plain(self, call: Call) -> Any | VkError:
        try:
            return await self.call(call.method, **call.params)
        except VkError as error:
            return error

    async def _request(
        self, method: str, build: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Send one HTTP request with pacing, backing off on what VK asks us to retry.

        `build` gives the parameters once a lane and a slot are free (None: nothing to send).
        Error 6 ("too many requests") and failures (5xx, timeouts, broken answers) have budgets
        of their own: waiting out a storm of 6 must not use up the retries of a failure.
        """
        params: dict[str, Any] | None = None
        throttled = failures = 0
        while True:
            # A lane first, then the slot: a slot reserved while every lane is busy would be
            # spent late, bunched with the next one, and VK would answer error 6.
            api = await self._lanes.get()
            slot = await self.pool.acquire()
            token = slot.token
            sent_at: list[float] = []
            try:
                if params is None and (params := build()) is None:
                    return None
                self.requests_sent += 1
                signed = {**params, "access_token": token.secret}
                response: dict[str, Any] = await in_daemon_thread(
                    _send, api, method, signed, sent_at
                )
                if not _daily_limit_inside(response):
                    return response
                # A call of the batch hit the token's daily limit: the whole batch goes again
                # with another token (reads only, stored by key: nothing doubles).
                error = VkError.from_code(DAILY_LIMIT, method)
            except ApiError as exc:
                error = VkError.from_code(int(exc.code), method)
            except Captcha:  # vk_api raises this for error 14 instead of an ApiError
                error = VkError.from_code(14, method)
            except ApiHttpError as exc:
                status = exc.response.status_code
                error = VkError(0, _("VK answered HTTP {status}", status=status), retry=True)
            except (requests.RequestException, ValueError) as exc:
                reason = _("network error talking to VK ({kind})", kind=type(exc).__name__)
                error = VkError(0, reason, retry=True)
            finally:
                self._lanes.put_nowait(api)
                if sent_at:
                    await self.pool.spent(slot, sent_at[0])
            if error.code in _SET_ASIDE:
                await self.pool.set_aside(token, error)  # the next try takes another token
                continue
            if error.code == 6:
                throttled += 1
                if throttled >= self.max_attempts * 3:
                    raise error
                await self.pool.penalize(token)
                continue
            failures += 1
            if not error.retry or failures >= self.max_attempts:
                raise error
            delay = min(30.0, 0.5 * 2 ** (failures - 1)) * random.uniform(0.5, 1.5)
            log.warning("VK %s: %s; retry %d in %.1fs", method, error, failures, delay)
            await asyncio.sleep(delay)


async def in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """`asyncio.to_thread`, but in a daemon thread of its own: a process stopping mid-request
    (SIGTERM, Ctrl-C) exits at once. The default executor's threads are joined at exit, so a
    held request kept a stopping worker alive up to VK_TIMEOUT (20 s, above Docker's 10 s
    stop grace) for an answer nobody reads; a cancelled call's answer is dropped."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], object]) -> None:
        if not future.done():  # else cancelled meanwhile
            outcome()

    def run() -> None:
        outcome: Callable[[], object]
        try:
            outcome = functools.partial(future.set_result, context.run(function, *args))
        except BaseException as error:
            outcome = functools.partial(future.set_exception, error)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="vk-request", daemon=True).start()
    return await future


def _daily_limit_inside(response: dict[str, Any]) -> bool:
    """Whether an `execute` answer says one of its calls hit the token's daily limit."""
    errors = response.get("execute_errors") or []
    return any(isinstance(e, dict) and e.get("error_code") == DAILY_LIMIT for e in errors)


def _send(api: vk_api.VkApi, method: str, params: dict[str, Any], sent_at: list[float]) -> Any:
    """One request, from a thread; notes when it went out (the pool checks it was on time)."""
    sent_at.append(time.monotonic())
    return api.method(method, params, raw=True)


__all__ = ["Call", "VkClient", "VkError"]
