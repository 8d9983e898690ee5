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

Run ``python -m core.vk.fake_api --demo --port 8081`` to play with the demo wall by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import threading
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from core.vk.fake_wall import (
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
MAX_PAGE = 100  # VK clamps wall.get / wall.getComments count to 100
MAX_THREAD_ITEMS = 10  # wall.getComments thread_items_count upper bound

Params = dict[str, str]
RequestHook = Callable[[str, Params], None]


class FakeApiError(Exception):
    """A VK API error; becomes ``{"error": {...}}`` or an ``execute_errors`` entry."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"[{code}] {msg}")
        self.code = code
        self.msg = msg


def _invalid(detail: str) -> FakeApiError:
    return FakeApiError(100, f"One of the parameters specified was missing or invalid: {detail}")


@dataclass
class FakeVKStats:
    """What the server saw; tests and benchmarks assert on it."""

    requests: int = 0  # HTTP requests received, including rejected and 5xx ones
    api_calls: int = 0  # dispatched method calls except the execute wrapper (incl. inner ones)
    error6: int = 0  # "Too many requests per second" answers
    errors: Counter[int] = field(default_factory=Counter)  # by code, incl. inner execute errors
    max_rate: int = 0  # max requests of one token in any sliding 1.0 s window (all received)
    max_rate_by_token: dict[str, int] = field(default_factory=dict)
    methods: Counter[str] = field(default_factory=Counter)  # dispatched calls, "execute" too
    http_5xx: int = 0  # injected 502/503 answers
    slow: int = 0  # responses delayed by slow_every


class _PostIndex:
    """Per-post lookup tables; kept in sync by :meth:`FakeVK.add_comment` & co."""

    __slots__ = ("post", "reply_ids", "reply_root", "top_by_id", "top_ids", "total")

    def __init__(self, post: FakePost) -> None:
        # The listing order is the id order; normalise once so bisect works.
        post.comments.sort(key=lambda c: c.id)
        self.post = post
        self.top_ids: list[int] = [c.id for c in post.comments]
        self.top_by_id: dict[int, FakeComment] = {c.id: c for c in post.comments}
        self.reply_ids: dict[int, list[int]] = {}
        self.reply_root: dict[int, int] = {}  # reply id -> id of its thread's root
        # comments.count of the post: every comment incl. replies and deleted placeholders, so
        # the counts of a wall add up to len(FakeVK.all_comment_keys()).
        self.total = len(post.comments)
        for comment in post.comments:
            self.total += len(comment.replies)
            if comment.replies:
                comment.replies.sort(key=lambda r: r.id)
                self.reply_ids[comment.id] = [r.id for r in comment.replies]
                for reply in comment.replies:
                    self.reply_root[reply.id] = comment.id

    def find(self, comment_id: int) -> FakeComment | None:
        """Any comment of the post (top-level or reply) by id, in O(log n)."""
        top = self.top_by_id.get(comment_id)
        if top is not None:
            return top
        root_id = self.reply_root.get(comment_id)
        if root_id is None:
            return None
        ids = self.reply_ids[root_id]
        return self.top_by_id[root_id].replies[bisect_left(ids, comment_id)]


class _GroupIndex:
    __slots__ = ("group", "next_id", "order", "posts")

    def __init__(self, group: FakeGroup) -> None:
        self.group = group
        self.posts: dict[int, _PostIndex] = {p.id: _PostIndex(p) for p in group.posts}
        # wall.get listing: pinned first (even though old), then newest first; computed once.
        self.order: list[FakePost] = sorted(
            group.posts, key=lambda p: (not p.is_pinned, -p.date, -p.id)
        )
        # Posts and comments share one id counter per wall, as on VK.
        top = 0
        for index in self.posts.values():
            top = max(top, index.post.id, *index.top_ids, *index.reply_root)
        self.next_id = top + 1

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


# --- execute code parsing ----------------------------------------------------------------

_DECODER = json.JSONDecoder()
_RETURN_RE = re.compile(r"\s*return\s*")
_CALL_RE = re.compile(r"\s*API\.([A-Za-z]+(?:\.[A-Za-z]+)?)\s*\(\s*")
_WS_RE = re.compile(r"\s+")
_VAR_RE = re.compile(r"\s*var\s+(def_values|values)\s*=\s*")
_NEXT_VALUES_RE = re.compile(r"\s*,\s*values\s*=\s*")
# vk_api's VkRequestsPool sends these two loop templates (vk_one_method / vk_one_param) when all
# calls of a batch use the same method; matched after the JSON literals with whitespace removed.
_ONE_METHOD_TAIL = re.compile(
    r",i=0,result=\[\];while\(i<values\.length\)\{result\.push\(API\.([A-Za-z]+\.[A-Za-z]+)"
    r"\(values\[i\]\)\);i=i\+1;\}returnresult;?"
)
_ONE_PARAM_TAIL = re.compile(
    r",result=\[\],i=0;while\(i<values\.length\)\{def_values\.(\w+)=values\[i\];"
    r"result\.push\(API\.([A-Za-z]+\.[A-Za-z]+)\(def_values\)\);i=i\+1;\}returnresult;?"
)

ExecuteCall = tuple[str, dict[str, Any]]


def _json_at(code: str, pos: int) -> tuple[Any, int] | None:
    while pos < len(code) and code[pos].isspace():
        pos += 1
    try:
        return _DECODER.raw_decode(code, pos)
    except json.JSONDecodeError:
        return None


def _parse_loop_forms(code: str) -> list[ExecuteCall] | None:
    """The two VKScript loops vk_api generates; None if ``code`` is neither."""
    m = _VAR_RE.match(code)
    if m is None:
        return None
    parsed = _json_at(code, m.end())
    if parsed is None:
        return None
    values, pos = parsed
    defaults: Any = None
    if m.group(1) == "def_values":
        defaults = values
        m2 = _NEXT_VALUES_RE.match(code, pos)
        parsed = None if m2 is None else _json_at(code, m2.end())
        if parsed is None:
            return None
        values, pos = parsed
    if not isinstance(values, list):
        return None
    tail = _WS_RE.sub("", code[pos:])
    if defaults is not None:
        pm = _ONE_PARAM_TAIL.fullmatch(tail)
        if pm is None or not isinstance(defaults, dict):
            return None
        key, method = pm.group(1), pm.group(2)
        return [(method, {**defaults, key: v}) for v in values]
    mm = _ONE_METHOD_TAIL.fullmatch(tail)
    if mm is None or not all(isinstance(v, dict) for v in values):
        return None
    return [(mm.group(1), v) for v in values]


def parse_execute_code(code: str) -> tuple[list[ExecuteCall], bool] | None:
    """Parse the VKScript that clients send to ``execute``.

    Accepts ``return [API.a.b({...}), ...];`` (vk_api's mixed-method batches), a single
    ``return API.a.b({...});`` and vk_api's two same-method loop templates.  Returns the calls
    and whether the result is an array, or None when the code is not one of these forms (the
    server then answers error 12, as VK does for code it cannot compile).  Arguments are parsed
    with a JSON decoder rather than a regex so strings containing ``)`` or ``,`` are safe.
    """
    loop = _parse_loop_forms(code)
    if loop is not None:
        return loop, True
    m = _RETURN_RE.match(code)
    if m is None:
        return None
    pos = m.end()
    is_list = code.startswith("[", pos)
    pos += is_list
    calls: list[ExecuteCall] = []
    while True:
        if is_list and not calls and code[pos:].lstrip().startswith("]"):
            pos = code.index("]", pos) + 1  # "return [];"
            break
        cm = _CALL_RE.match(code, pos)
        if cm is None:
            return None
        pos = cm.end()
        args: Any = {}
        if not code.startswith(")", pos):
            parsed = _json_at(code, pos)
            if parsed is None or not isinstance(parsed[0], dict):
                return None
            args, pos = parsed
            pos = len(code) - len(code[pos:].lstrip())
            if not code.startswith(")", pos):
                return None
        calls.append((cm.group(1), args))
        pos = len(code) - len(code[pos + 1 :].lstrip())
        if not is_list:
            break
        if code.startswith(",", pos):
            pos += 1
            continue
        if code.startswith("]", pos):
            pos += 1
            break
        return None
    if code[pos:].strip() not in ("", ";"):
        return None
    return calls, is_list


def _to_param(value: Any) -> str | None:
    """An execute argument as the string it would be in a form post (None: omit it)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list):
        return ",".join(s for s in (_to_param(v) for v in value) if s is not None)
    return json.dumps(value, ensure_ascii=False)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- parameter helpers ---------------------------------------------------------------------


def _int(params: Params, name: str, default: int | None = None) -> int:
    raw = params.get(name, "").strip()
    if raw == "":
        if default is None:
            raise _invalid(f"{name} is undefined")
        return default
    try:
        return int(raw)
    except ValueError:
        raise _invalid(f"{name} not integer") from None


def _page(params: Params, default_count: int) -> tuple[int, int]:
    offset = _int(params, "offset", 0)
    count = _int(params, "count", default_count)
    if count < 0:
        raise _invalid("count should be positive")
    return offset, min(count, MAX_PAGE)


_NUMERIC_ALIAS_RE = re.compile(r"(?:club|public|event)(\d+)")

_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class FakeVK:
    """The fake VK API server.  See the module docstring; construct, ``await start()``, use.

    ``tokens`` maps access tokens to their kind (``"user"`` or ``"service"``); None accepts any
    non-empty token as a user token.

    Rate limit: a request gets error 6 when its token already had ``rps`` accepted requests in
    the last 1.0 s (sliding window; ``execute`` is one request, its inner calls are free).
    Refused requests do not extend the window, but ``stats.max_rate`` measures every received
    request, so a client that hammers shows up there.

    Fault injection: ``fail_5xx_every=N`` answers every N-th HTTP request with 502/503 and an
    HTML body, ``slow_every=N`` delays every N-th response by ``slow_seconds``,
    ``daily_limit_after=N`` answers error 29 to a token after its N-th accepted request.

    ``on_request(method, params)`` is called for every dispatched call (including each call
    inside ``execute``) *before* it is served, so a test can change the wall mid-paging;
    refused requests (errors 5/6/8/29, 5xx) do not reach it.

    The wall objects passed in are indexed, not copied; change them only through
    :meth:`add_comment`, :meth:`delete_comment` and :meth:`add_post` while serving.
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
        self.rps = rps
        self.tokens = tokens
        self.max_execute_calls = max_execute_calls
        self.execute_response_limit = execute_response_limit
        self.fail_5xx_every = fail_5xx_every
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self.daily_limit_after = daily_limit_after
        self.stats = FakeVKStats()
        self.on_request: RequestHook | None = None
        self.url: str | None = None

        self._groups: dict[int, _GroupIndex] = {}
        self._by_name: dict[str, int] = {}
        for group in groups:
            self._groups[group.id] = _GroupIndex(group)
            self._by_name[group.screen_name.lower()] = group.id
        # Per token: times of all received requests (for max_rate) and of accepted ones (limit).
        self._seen: dict[str, deque[float]] = {}
        self._accepted: dict[str, deque[float]] = {}
        self._used: Counter[str] = Counter()  # accepted requests per token, for the daily limit
        self._handlers: dict[str, Callable[[Params], Any]] = {
            "groups.getById": self._groups_get_by_id,
            "utils.resolveScreenName": self._resolve_screen_name,
            "wall.get": self._wall_get,
            "wall.getComments": self._wall_get_comments,
        }
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

    # --- test helpers ------------------------------------------------------------------

    def _group_for_owner(self, owner_id: int) -> _GroupIndex:
        try:
            return self._groups[abs(owner_id)]
        except KeyError:
            raise KeyError(f"no group for owner_id {owner_id}") from None

    def _post_index(self, owner_id: int, post_id: int) -> tuple[_GroupIndex, _PostIndex]:
        gi = self._group_for_owner(owner_id)
        try:
            return gi, gi.posts[post_id]
        except KeyError:
            raise KeyError(f"no post {owner_id}_{post_id}") from None

    def add_comment(
        self,
        owner_id: int,
        post_id: int,
        text: str,
        reply_to: int | None = None,
        *,
        from_id: int = 1,
    ) -> FakeComment:
        """Add a comment (next wall id, date = now), e.g. from ``on_request`` mid-paging.

        ``owner_id`` is VK's (``-group_id``; the positive id is accepted too).  ``reply_to``
        may name a top-level comment or a reply; a reply to a reply joins the root's thread.
        """
        gi, pi = self._post_index(owner_id, post_id)
        comment = FakeComment(id=gi.take_id(), from_id=from_id, date=int(time.time()), text=text)
        if reply_to is None:
            # A new id is the largest, so appending keeps the lists sorted for bisect.
            pi.post.comments.append(comment)
            pi.top_ids.append(comment.id)
            pi.top_by_id[comment.id] = comment
        else:
            root_id = reply_to if reply_to in pi.top_by_id else pi.reply_root.get(reply_to)
            if root_id is None:
                raise KeyError(f"no comment {reply_to} under post {owner_id}_{post_id}")
            comment.reply_to = reply_to
            pi.top_by_id[root_id].replies.append(comment)
            pi.reply_ids.setdefault(root_id, []).append(comment.id)
            pi.reply_root[comment.id] = root_id
        pi.total += 1
        return comment

    def delete_comment(self, owner_id: int, post_id: int, comment_id: int) -> FakeComment:
        """Mark a comment deleted (it keeps its place and replies, loses its text)."""
        _, pi = self._post_index(owner_id, post_id)
        comment = pi.find(comment_id)
        if comment is None:
            raise KeyError(f"no comment {comment_id} under post {owner_id}_{post_id}")
        comment.deleted = True
        comment.text = ""
        return comment

    def add_post(self, owner_id: int, text: str) -> FakePost:
        """Publish a new post (date = now): it shifts wall.get offsets, as on a live wall."""
        gi = self._group_for_owner(owner_id)
        post = FakePost(id=gi.take_id(), date=int(time.time()), text=text, comments=[])
        gi.group.posts.append(post)
        gi.posts[post.id] = _PostIndex(post)
        pinned = sum(1 for p in gi.order[:1] if p.is_pinned)
        gi.order.insert(pinned, post)
        return post

    def all_comment_keys(self) -> set[tuple[int, int, int]]:
        """``(owner_id, post_id, comment_id)`` of every comment, replies and deleted included.

        ``owner_id`` is VK's, i.e. ``-group_id``.
        """
        keys: set[tuple[int, int, int]] = set()
        for gid, gi in self._groups.items():
            for post_id, pi in gi.posts.items():
                keys.update((-gid, post_id, cid) for cid in pi.top_ids)
                keys.update((-gid, post_id, cid) for cid in pi.reply_root)
        return keys

    # --- HTTP layer --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        number = self.stats.requests
        method = request.match_info["method"]
        params: Params = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update((k, v) for k, v in form.items() if isinstance(v, str))
        # Timestamp after the body is read: from here on nothing awaits until the answer is
        # decided, so the per-token deques stay in time order.
        now = time.monotonic()
        token = params.get("access_token", "")
        self._measure_rate(token, now)
        response: web.StreamResponse
        if self.fail_5xx_every and number % self.fail_5xx_every == 0:
            self.stats.http_5xx += 1
            # Alternate 502/503 like a flaky balancer; the request never reaches the API, so
            # it neither uses the rate limit nor reaches on_request.
            code, reason = (
                (502, "Bad Gateway")
                if self.stats.http_5xx % 2
                else (503, "Service Temporarily Unavailable")
            )
            response = web.Response(
                status=code,
                text=_BAD_GATEWAY_HTML.format(code=code, reason=reason),
                content_type="text/html",
            )
        else:
            body = self._process(method, params, token, now)
            response = web.Response(
                body=body.encode("utf-8"), content_type="application/json", charset="utf-8"
            )
        if self.slow_every and number % self.slow_every == 0:
            self.stats.slow += 1
            await asyncio.sleep(self.slow_seconds)
        return response

    def _measure_rate(self, token: str, now: float) -> None:
        seen = self._seen.setdefault(token, deque())
        while seen and now - seen[0] >= 1.0:
            seen.popleft()
        seen.append(now)
        if len(seen) > self.stats.max_rate_by_token.get(token, 0):
            self.stats.max_rate_by_token[token] = len(seen)
            self.stats.max_rate = max(self.stats.max_rate, len(seen))

    def _process(self, method: str, params: Params, token: str, now: float) -> str:
        """Apply auth and limits, dispatch, and return the JSON body."""
        try:
            kind = self._token_kind(token)
            if not params.get("v"):
                raise FakeApiError(8, "Invalid request: v (version) is required")
            accepted = self._accepted.setdefault(token, deque())
            while accepted and now - accepted[0] >= 1.0:
                accepted.popleft()
            if len(accepted) >= self.rps:
                self.stats.error6 += 1
                raise FakeApiError(6, "Too many requests per second")
            accepted.append(now)
            if self.daily_limit_after is not None and self._used[token] >= self.daily_limit_after:
                raise FakeApiError(29, "Rate limit reached")
            self._used[token] += 1
            if method == "execute":
                return self._execute(params, kind)
            return '{"response":' + _dumps(self._call(method, params)) + "}"
        except FakeApiError as exc:
            self.stats.errors[exc.code] += 1
            return _dumps({"error": self._error_object(exc, method, params)})

    def _token_kind(self, token: str) -> str:
        if not token:
            raise FakeApiError(5, "User authorization failed: no access_token passed.")
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

    def _call(self, method: str, params: Params) -> Any:
        """Dispatch one method call (top-level or inside execute); raises FakeApiError."""
        self.stats.methods[method] += 1
        self.stats.api_calls += 1
        if self.on_request is not None:
            self.on_request(method, params)
        handler = self._handlers.get(method)
        if handler is None:  # includes "execute" nested inside execute
            raise FakeApiError(3, "Unknown method passed")
        return handler(params)

    def _execute(self, params: Params, kind: str) -> str:
        self.stats.methods["execute"] += 1
        if self.on_request is not None:
            self.on_request("execute", params)
        if kind == "service":
            raise FakeApiError(15, "Access denied: execute is not available with a service token")
        code = params.get("code")
        if not code:
            raise _invalid("code is undefined")
        parsed = parse_execute_code(code)
        if parsed is None:
            raise FakeApiError(12, "Unable to compile code")
        calls, is_list = parsed
        if len(calls) > self.max_execute_calls:
            raise FakeApiError(
                13, "Runtime error occurred during code invocation: Too many API calls"
            )
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        for method, args in calls:
            inner = {k: s for k, v in args.items() if (s := _to_param(v)) is not None}
            try:
                results.append(self._call(method, inner))
            except FakeApiError as exc:
                self.stats.errors[exc.code] += 1
                results.append(False)
                errors.append({"method": method, "error_code": exc.code, "error_msg": exc.msg})
        payload = _dumps(results if is_list else results[0])
        # VK measures the produced response; serialise once and reuse it for the body.
        if len(payload.encode("utf-8")) > self.execute_response_limit:
            raise FakeApiError(
                13, "Runtime error occurred during code invocation: response size is too big"
            )
        tail = ',"execute_errors":' + _dumps(errors) if errors else ""
        return '{"response":' + payload + tail + "}"

    # --- lookups -----------------------------------------------------------------------

    def _group_by_ref(self, ref: str) -> _GroupIndex | None:
        """A community by numeric id, screen_name or a clubN/publicN alias."""
        ref = ref.strip().lower()
        if ref.lstrip("-").isdigit():
            return self._groups.get(abs(int(ref)))
        gid = self._by_name.get(ref)
        if gid is None:
            m = _NUMERIC_ALIAS_RE.fullmatch(ref)
            gid = int(m.group(1)) if m else None
        return None if gid is None else self._groups.get(gid)

    def _wall_group(self, params: Params, *, comments: bool) -> _GroupIndex:
        """The community whose wall is asked for, after VK's access checks."""
        gi: _GroupIndex | None
        if params.get("owner_id", "").strip():
            owner_id = _int(params, "owner_id")
            # Only communities exist here; a positive owner_id would be a user wall.
            gi = self._groups.get(-owner_id) if owner_id < 0 else None
        elif params.get("domain", "").strip() and not comments:
            gi = self._group_by_ref(params["domain"])
        else:
            raise _invalid("owner_id is undefined")
        if gi is None:
            raise _invalid("owner_id is incorrect")
        if gi.group.deleted:
            raise FakeApiError(18, "User was deleted or banned")
        if gi.group.private:
            if comments:
                raise FakeApiError(
                    15, "Access denied: this wall available only for community members"
                )
            raise FakeApiError(30, "This profile is private")
        return gi

    # --- method handlers ---------------------------------------------------------------

    @staticmethod
    def _group_object(group: FakeGroup) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": group.id,
            "name": group.name,
            "screen_name": group.screen_name,
            "is_closed": 1 if group.private else 0,
            "type": group.type,
            "is_admin": 0,
            "is_member": 0,
            "is_advertiser": 0,
        }
        if group.deleted:
            obj["deactivated"] = "deleted"
        return obj

    def _groups_get_by_id(self, params: Params) -> Any:
        raw = params.get("group_ids") or params.get("group_id") or ""
        refs = [r for r in raw.split(",") if r.strip()]
        found = [gi for gi in (self._group_by_ref(r) for r in refs) if gi is not None]
        if not found:  # VK drops unknown ids silently and fails only when none is left
            raise _invalid("group_ids is undefined")
        return {"groups": [self._group_object(gi.group) for gi in found], "profiles": []}

    def _resolve_screen_name(self, params: Params) -> Any:
        name = params.get("screen_name", "").strip()
        if not name:
            raise _invalid("screen_name is undefined")
        gi = None if name.lstrip("-").isdigit() else self._group_by_ref(name)
        if gi is None:
            return []  # VK answers an empty array, not an error, for unknown names
        return {"type": "group", "object_id": gi.group.id}

    def _wall_get(self, params: Params) -> Any:
        gi = self._wall_group(params, comments=False)
        offset, count = _page(params, 20)
        if offset < 0:
            raise _invalid("offset should be positive")
        owner_id = -gi.group.id
        posts = gi.order
        if params.get("filter", "all") not in ("all", "owner", ""):
            posts = []  # every fake post is by the community itself
        items = [self._post_object(gi, p, owner_id) for p in posts[offset : offset + count]]
        result: dict[str, Any] = {"count": len(posts), "items": items}
        if params.get("extended") == "1":
            result["profiles"] = []
            result["groups"] = [self._group_object(gi.group)]
        return result

    @staticmethod
    def _post_object(gi: _GroupIndex, post: FakePost, owner_id: int) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": post.id,
            "owner_id": owner_id,
            "from_id": owner_id,
            "date": post.date,
            "post_type": "post",
            "text": post.text,
            "comments": {
                "count": gi.posts[post.id].total,
                "can_post": 0 if post.comments_closed else 1,
                "groups_can_post": not post.comments_closed,
            },
        }
        if post.is_pinned:
            obj["is_pinned"] = 1
        return obj

    def _wall_get_comments(self, params: Params) -> Any:
        gi = self._wall_group(params, comments=True)
        post_id = _int(params, "post_id")
        pi = gi.posts.get(post_id)
        if pi is None:
            raise _invalid("post not found")
        if pi.post.comments_closed:
            raise FakeApiError(212, "Access to post comments denied")
        offset, count = _page(params, 10)
        desc = params.get("sort", "asc") == "desc"
        preview = max(0, _int(params, "preview_length", 0))
        thread_items = min(MAX_THREAD_ITEMS, max(0, _int(params, "thread_items_count", 0)))
        owner_id = -gi.group.id

        root: FakeComment | None = None
        listing: Sequence[FakeComment]
        if params.get("comment_id", "").strip():
            root_id = _int(params, "comment_id")
            root = pi.top_by_id.get(root_id)
            if root is None:
                raise _invalid("comment not found")
            listing, ids = root.replies, pi.reply_ids.get(root_id, [])
        else:
            listing, ids = pi.post.comments, pi.top_ids
        total = len(ids)

        start = offset
        if params.get("start_comment_id", "").strip():
            start_id = _int(params, "start_comment_id")
            at = bisect_left(ids, start_id)
            if at == total or ids[at] != start_id:
                raise _invalid("start_comment_id is incorrect")
            start = (total - 1 - at if desc else at) + offset
            start = max(0, start)  # with start_comment_id a negative offset looks back
        elif offset < 0:
            raise _invalid("offset should be positive")
        stop = min(total, start + count)
        # Positions in the requested order map to list indexes without copying the list.
        indexes = range(total - 1 - start, total - 1 - stop, -1) if desc else range(start, stop)

        items = [
            self._comment_object(pi, listing[i], owner_id, preview, root, thread_items)
            for i in indexes
        ]
        result: dict[str, Any] = {
            "count": total,
            "current_level_count": total,
            "can_post": True,
            "show_reply_button": True,
            "groups_can_post": True,
            "items": items,
        }
        if params.get("start_comment_id", "").strip():
            result["real_offset"] = start
        if params.get("extended") == "1":
            result["profiles"] = []
            result["groups"] = [self._group_object(gi.group)]
        return result

    def _comment_object(
        self,
        pi: _PostIndex,
        comment: FakeComment,
        owner_id: int,
        preview: int,
        root: FakeComment | None,
        thread_items: int,
    ) -> dict[str, Any]:
        """One comment as VK renders it.  ``root`` is set for replies (they get
        ``parents_stack``/``reply_to_*``); top-level comments get a ``thread`` showing their
        first ``thread_items`` replies."""
        obj: dict[str, Any] = {"id": comment.id}
        if comment.deleted:
            obj.update(deleted=True, from_id=0, date=comment.date, text="")
        else:
            text = comment.text[:preview] if preview else comment.text
            obj.update(from_id=comment.from_id, date=comment.date, text=text)
        obj.update(post_id=pi.post.id, owner_id=owner_id)
        if root is not None:
            obj["parents_stack"] = [root.id]
            answered_id = root.id if comment.reply_to is None else comment.reply_to
            answered = pi.find(answered_id)
            obj["reply_to_comment"] = answered_id
            obj["reply_to_user"] = 0 if answered is None or answered.deleted else answered.from_id
        else:
            obj["parents_stack"] = []
            obj["thread"] = {
                "count": len(comment.replies),
                "items": [
                    self._comment_object(pi, r, owner_id, preview, comment, 0)
                    for r in comment.replies[:thread_items]
                ],
                "can_post": True,
                "show_reply_button": True,
                "groups_can_post": True,
            }
        return obj


# --- CLI ---------------------------------------------------------------------------------


async def _serve(vk: FakeVK, host: str, port: int) -> None:
    url = await vk.start(host, port)
    group = next(iter(vk._groups.values())).group
    print(f"fake VK API (v{API_VERSION}) at {url}  rps={vk.rps}")
    print(f"community: {group.name} (id {group.id}, screen_name {group.screen_name})")
    print(
        f'try: curl -s "{url}/wall.get?owner_id=-{group.id}&count=2&access_token=demo'
        f'&v={API_VERSION}"'
    )
    try:
        await asyncio.Event().wait()  # until Ctrl+C
    finally:
        await vk.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m core.vk.fake_api [--demo | --synthetic POSTS COMMENTS] [--port N]``."""
    parser = argparse.ArgumentParser(prog="python -m core.vk.fake_api", description=__doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="serve the demo wall (default)")
    source.add_argument(
        "--synthetic",
        nargs=2,
        type=int,
        metavar=("POSTS", "COMMENTS"),
        help="serve a synthetic wall (texts from the demo wall)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rps", type=float, default=3.0, help="requests per second per token")
    parser.add_argument(
        "--fresh", action="store_true", help="shift demo dates so the newest item is now"
    )
    args = parser.parse_args(argv)
    groups = load_demo_groups(now=int(time.time()) if args.fresh else None)
    if args.synthetic:
        texts = [c.text for p in groups[0].posts for c in p.comments if c.text]
        posts, comments = args.synthetic
        groups = [build_synthetic_wall(1, "synthetic", posts, comments, texts=texts)]
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is the normal way to stop it
        asyncio.run(_serve(FakeVK(groups, rps=args.rps), args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
