"""An HTTP-level fake of the VK API (v5.199) for tests, benchmarks and the offline demo.

The real client POSTs form-encoded parameters to ``{VK_API_URL}/{method}``; pointing
``VK_API_URL`` at :meth:`FakeVK.start`'s URL makes it talk to this server instead.  Answers are
shaped like VK's (``{"response": ...}`` / ``{"error": {...}}`` with HTTP 200) and the server
reproduces the behaviour a collector must survive: the per-token rate limit (error 6), the
daily limit (29), private/deleted communities, closed comments (212), ``execute`` batches with
their limits and ``execute_errors``, and injected 5xx answers and slow responses.

Supported methods: ``groups.getById``, ``utils.resolveScreenName``, ``wall.get``,
``wall.getComments`` and ``execute``.  Every lookup is indexed (posts by id, comments by id with
bisect for ``start_comment_id``), so one request costs O(page), not O(wall): benchmarks run
walls of 2,000 posts x 120 comments.

Run ``python -m fakevk --demo --port 8081`` to play with the demo wall by hand.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakevk.execute import parse_execute_code, run_execute
from fakevk.faults import FaultKind, FaultPlan, bad_gateway, error_payload, truncate
from fakevk.index import FakeWalls
from fakevk.methods import METHODS, FakeApiError, Params, dumps
from fakevk.wall import (
    FakeComment,
    FakeGroup,
    FakePost,
    build_synthetic_wall,
    load_demo_groups,
)

__all__ = [
    "FakeApiError",
    "FakeComment",
    "FakeGroup",
    "FakePost",
    "FakeVK",
    "FakeVKStats",
    "build_synthetic_wall",
    "load_demo_groups",
    "parse_execute_code",
]

API_VERSION = "5.199"

RequestHook = Callable[[str, Params], None]

# VK's answers to a token it refuses, by error code.
_REJECTIONS = {
    5: "User authorization failed: access_token has expired.",
    17: "Validation required: please open redirect_uri in browser",
}


@dataclass
class FakeVKStats:
    """What the server saw; tests and benchmarks assert on it."""

    requests: int = 0  # HTTP requests received, including rejected and 5xx ones
    api_calls: int = 0  # dispatched method calls except the execute wrapper (incl. inner ones)
    error6: int = 0  # "Too many requests per second" answers
    errors: Counter[int] = field(default_factory=Counter)  # by code, incl. inner execute errors
    max_rate: int = 0  # max requests of one token in any sliding 1.0 s window (all received)
    max_rate_by_token: dict[str, int] = field(default_factory=dict)
    requests_by_token: Counter[str] = field(default_factory=Counter)  # all received
    methods: Counter[str] = field(default_factory=Counter)  # dispatched calls, "execute" too
    http_5xx: int = 0  # injected 502/503 answers
    slow: int = 0  # responses delayed by slow_every
    held: int = 0  # requests held by pause() so far


def _last_second(times: dict[str, deque[float]], token: str, now: float) -> deque[float]:
    """The token's request times within the sliding 1.0 s window ending at ``now``."""
    window = times.setdefault(token, deque())
    while window and now - window[0] >= 1.0:
        window.popleft()
    return window


class FakeVK(FakeWalls):
    """The fake VK API server.  See the module docstring; construct, ``await start()``, use.

    ``tokens`` maps access tokens to their kind (``"user"`` or ``"service"``); None accepts any
    non-empty token as a user token.

    ``reject(token, code)`` makes VK refuse a token from then on: error 5 (authorization failed)
    or 17 (validation required), before any limit, as VK does.

    Rate limit: a request gets error 6 when its token already had ``rps`` accepted requests in
    the last 1.0 s (sliding window; ``execute`` is one request, its inner calls are free).
    Refused requests do not extend the window, but ``stats.max_rate`` measures every received
    request, so a client that hammers shows up there.

    Fault injection: ``fail_5xx_every=N`` answers every N-th HTTP request with 502/503 and an
    HTML body, ``slow_every=N`` delays every N-th response by ``slow_seconds``,
    ``daily_limit_after=N`` answers error 29 to a token after its N-th accepted request
    (:meth:`limit_daily`: to one token, or to its calls of one method), and
    :meth:`inject` plans error-6 storms, captchas, 5xx, timeouts and truncated JSON for chosen
    upcoming requests (see :mod:`fakevk.faults`).

    ``on_request(method, params)`` is called for every dispatched call (including each call
    inside ``execute``) *before* it is served, so a test can change the wall mid-paging;
    refused requests (errors 5/6/8/29, 5xx) do not reach it.

    The wall objects passed in are indexed, not copied; change them only through
    :meth:`add_comment`, :meth:`delete_comment` and :meth:`add_post` while serving (they,
    :meth:`all_comment_keys` and the index come from :class:`~fakevk.index.FakeWalls`).
    """

    def __init__(
        self,
        groups: list[FakeGroup],
        *,
        rps: float = 3.0,
        tokens: dict[str, str] | None = None,
        max_execute_calls: int = 25,
        execute_response_limit: int = 5_000_000,
        fail_5xx_every: int = 0,
        slow_every: int = 0,
        slow_seconds: float = 0.0,
        daily_limit_after: int | None = None,
    ) -> None:
        super().__init__(groups)
        self.rps = rps
        self.tokens = tokens
        self.max_execute_calls = max_execute_calls
        self.execute_response_limit = execute_response_limit
        self.fail_5xx_every = fail_5xx_every
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self.daily_limit_after = daily_limit_after
        self.stats = FakeVKStats()
        self.faults = FaultPlan()
        self.on_request: RequestHook | None = None
        self.url: str | None = None
        # Requests to these methods wait for resume(): a test holds a job mid-parse on an event.
        self._held_methods: frozenset[str] = frozenset()
        self._resumed = asyncio.Event()

        # Per token: times of all received requests (for max_rate) and of accepted ones (limit).
        self._seen: dict[str, deque[float]] = {}
        self._accepted: dict[str, deque[float]] = {}
        self._used: Counter[str] = Counter()  # accepted requests per token, for the daily limit
        # (token, method or None for every request) -> its own daily limit
        self._daily_limits: dict[tuple[str, str | None], int] = {}
        self._used_by_method: Counter[tuple[str, str]] = Counter()  # calls, inner ones too
        self._rejected: dict[str, int] = {}  # token -> the error code VK now answers it with
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (GET query strings work too, for humans with curl)."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/method/{method}", self._handle)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL ``http://HOST:PORT/method`` (port 0 = any)."""
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}/method"
        return self.url

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeVK:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve from a background thread with its own event loop, for synchronous callers
        (e.g. a blocking vk_api client in a benchmark).  Hooks then run in that thread."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-vk", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        return asyncio.run_coroutine_threadsafe(self.start(host, port), loop).result(timeout=30)

    def stop_thread(self) -> None:
        """Stop a server started with :meth:`start_in_thread`."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        self._loop = self._thread = None

    def pause(self, *methods: str) -> None:
        """Hold every new request to ``methods`` (e.g. "execute") until :meth:`resume`."""
        self._held_methods = frozenset(methods)
        self._resumed.clear()

    def resume(self) -> None:
        """Answer the held requests and stop holding."""
        self._held_methods = frozenset()
        self._resumed.set()

    # --- HTTP layer --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        number = self.stats.requests
        method = request.match_info["method"]
        params: Params = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update((k, v) for k, v in form.items() if isinstance(v, str))
        if method in self._held_methods:
            self.stats.held += 1
            await self._resumed.wait()
        # Timestamp after the body is read: from here on nothing awaits until the answer is
        # decided, so the per-token deques stay in time order.
        now = time.monotonic()
        token = params.get("access_token", "")
        self._measure_rate(token, now)
        fault = self.faults.take(number)
        response: web.StreamResponse
        if fault == "http5xx" or (self.fail_5xx_every and number % self.fail_5xx_every == 0):
            # The request never reaches the API: no rate limit used, no on_request call.
            self.stats.http_5xx += 1
            response = bad_gateway(self.stats.http_5xx)
        else:
            if fault in ("error6", "captcha"):
                body = self._injected_error(fault, number, method, params)
            else:
                body = self._process(method, params, token, now)
            if fault == "truncated":
                body = truncate(body)
            response = web.Response(
                body=body.encode("utf-8"), content_type="application/json", charset="utf-8"
            )
        if self.slow_every and number % self.slow_every == 0:
            self.stats.slow += 1
            await asyncio.sleep(self.slow_seconds)
        if fault == "timeout":
            await asyncio.sleep(self.faults.timeout_seconds)
        return response

    def reject(self, token: str, code: int = 5) -> None:
        """From now on answer every request with `token` with error `code` (5 or 17)."""
        if code not in _REJECTIONS:
            raise ValueError(f"a token is rejected with one of {sorted(_REJECTIONS)}")
        self._rejected[token] = code

    def limit_daily(self, token: str, after: int = 0, method: str | None = None) -> None:
        """Answer error 29 to `token` once it has had `after` more accepted requests; with
        `method`, to its calls of that method only (inside `execute` too, as VK's per-method
        limits: the call fails, the batch goes on)."""
        used = self._used[token] if method is None else self._used_by_method[token, method]
        self._daily_limits[token, method] = used + after

    def inject(self, kind: FaultKind, *, times: int = 1, after: int = 0) -> None:
        """Make the `times` HTTP requests that follow the next `after` ones fail with `kind`."""
        self.faults.add(kind, first=self.stats.requests + after + 1, times=times)

    def _injected_error(self, kind: str, number: int, method: str, params: Params) -> str:
        code, message, extra = error_payload(kind, number)
        self.stats.errors[code] += 1
        self.stats.error6 += int(code == 6)
        error = self._error_object(FakeApiError(code, message), method, params)
        return dumps({"error": {**error, **extra}})

    def _measure_rate(self, token: str, now: float) -> None:
        seen = _last_second(self._seen, token, now)
        seen.append(now)
        self.stats.requests_by_token[token] += 1
        if len(seen) > self.stats.max_rate_by_token.get(token, 0):
            self.stats.max_rate_by_token[token] = len(seen)
            self.stats.max_rate = max(self.stats.max_rate, len(seen))

    def _process(self, method: str, params: Params, token: str, now: float) -> str:
        """Apply auth and limits, dispatch, and return the JSON body."""
        try:
            kind = self._token_kind(token)
            if not params.get("v"):
                raise FakeApiError(8, "Invalid request: v (version) is required")
            accepted = _last_second(self._accepted, token, now)
            if len(accepted) >= self.rps:
                self.stats.error6 += 1
                raise FakeApiError(6, "Too many requests per second")
            accepted.append(now)
            limit = self._daily_limits.get((token, None), self.daily_limit_after)
            if limit is not None and self._used[token] >= limit:
                raise FakeApiError(29, "Rate limit reached")
            self._used[token] += 1
            if method == "execute":
                return self._execute(params, kind, token)
            return '{"response":' + dumps(self._call(method, params, token)) + "}"
        except FakeApiError as exc:
            self.stats.errors[exc.code] += 1
            return dumps({"error": self._error_object(exc, method, params)})

    def _token_kind(self, token: str) -> str:
        if not token:
            raise FakeApiError(5, "User authorization failed: no access_token passed.")
        if token in self._rejected:
            code = self._rejected[token]
            raise FakeApiError(code, _REJECTIONS[code])
        if self.tokens is None:
            return "user"
        kind = self.tokens.get(token)
        if kind is None:
            raise FakeApiError(5, "User authorization failed: invalid access_token")
        return kind

    @staticmethod
    def _error_object(exc: FakeApiError, method: str, params: Params) -> dict[str, Any]:
        request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        request_params += [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
        return {"error_code": exc.code, "error_msg": exc.msg, "request_params": request_params}

    def _call(self, method: str, params: Params, token: str) -> Any:
        """Dispatch one method call (top-level or inside execute); raises FakeApiError."""
        limit = self._daily_limits.get((token, method))
        if limit is not None and self._used_by_method[token, method] >= limit:
            raise FakeApiError(29, "Rate limit reached")
        self._used_by_method[token, method] += 1
        self.stats.methods[method] += 1
        self.stats.api_calls += 1
        if self.on_request is not None:
            self.on_request(method, params)
        handler = METHODS.get(method)
        if handler is None:  # includes "execute" nested inside execute
            raise FakeApiError(3, "Unknown method passed")
        return handler(self, params)

    def _execute(self, params: Params, kind: str, token: str) -> str:
        self.stats.methods["execute"] += 1
        if self.on_request is not None:
            self.on_request("execute", params)
        if kind == "service":
            raise FakeApiError(15, "Access denied: execute is not available with a service token")
        return run_execute(
            params.get("code"),
            functools.partial(self._call, token=token),
            max_calls=self.max_execute_calls,
            response_limit=self.execute_response_limit,
            error_counts=self.stats.errors,
        )
