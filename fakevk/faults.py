"""Faults the fake VK API injects into chosen requests, as VK and the network produce them.

A test plans them with :meth:`fakevk.api.FakeVK.inject`: "the next N requests, after the next
M ones, fail like this". Kinds:

- ``error6``: ``{"error": {"error_code": 6, ...}}`` (a storm when N is large);
- ``captcha``: error 14 with ``captcha_sid`` and ``captcha_img``, as VK asks for a captcha;
- ``http5xx``: a 502 with an nginx HTML page, the request never reaching the API;
- ``timeout``: the request is served, but the answer waits ``timeout_seconds`` (set it longer
  than the client's timeout);
- ``truncated``: the request is served and its JSON answer cut in half (a dropped connection).

Faulted requests count in ``FakeVKStats.requests``; ``FaultPlan.applied`` counts them by kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, get_args

from aiohttp import web

FaultKind = Literal["error6", "captcha", "http5xx", "timeout", "truncated"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

_ERRORS = {
    "error6": (6, "Too many requests per second"),
    "captcha": (14, "Captcha needed"),
}


@dataclass
class FaultPlan:
    """Upcoming HTTP requests (by their number, counted from 1) and the fault each gets."""

    timeout_seconds: float = 3.0
    applied: Counter[str] = field(default_factory=Counter)
    _planned: dict[int, str] = field(default_factory=dict)

    def add(self, kind: FaultKind, *, first: int, times: int) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {FAULT_KINDS}")
        if times < 1:
            raise ValueError("times must be positive")
        for number in range(first, first + times):
            self._planned[number] = kind

    def take(self, number: int) -> str | None:
        """The fault for request `number`, counted as applied, or None."""
        kind = self._planned.pop(number, None)
        if kind is not None:
            self.applied[kind] += 1
        return kind

    def pending(self) -> int:
        return len(self._planned)

    def clear(self) -> None:
        """VK recovers: no planned fault is left."""
        self._planned.clear()


def error_payload(kind: str, number: int) -> tuple[int, str, dict[str, str]]:
    """(code, message, extra fields) of an injected API error."""
    code, message = _ERRORS[kind]
    extra: dict[str, str] = {}
    if kind == "captcha":
        sid = f"{number:012d}"
        extra = {"captcha_sid": sid, "captcha_img": f"https://api.vk.ru/captcha.php?sid={sid}"}
    return code, message, extra


def truncate(body: str) -> str:
    """The first half of an answer, as a connection dropped mid-body leaves it."""
    return body[: max(1, len(body) // 2)]


_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def bad_gateway(count: int) -> web.Response:
    """The `count`-th 5xx answer: 502 and 503 in turn, like a flaky balancer, with its page."""
    code, reason = (502, "Bad Gateway") if count % 2 else (503, "Service Temporarily Unavailable")
    page = _BAD_GATEWAY_HTML.format(code=code, reason=reason)
    return web.Response(status=code, text=page, content_type="text/html")
