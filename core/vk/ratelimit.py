"""One VK request pace per token, shared through Redis by every job in every worker."""

from __future__ import annotations

import asyncio
import hashlib

from redis.asyncio import Redis

# Take the shared slot when it is due (GCRA): a caller that is not due yet learns how long to
# wait and asks again, so a slot is taken only at the moment of sending and the pace holds across
# processes and machines. A caller that wakes a little late keeps the timeline (up to ARGV[2]:
# timer and Redis round-trip slack, a tenth of the margin); one that wakes later (a busy event
# loop) moves it, instead of bunching with the callers after it. Times are in microseconds.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then
  return tat - now
end
local start = math.max(tat, now - tonumber(ARGV[2]))
redis.call('SET', KEYS[1], start + tonumber(ARGV[1]), 'PX', 60000)
return 0
"""

# After VK's error 6 everybody waits: move the shared timeline forward.
_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(tat, now) + tonumber(ARGV[1]), 'PX', 60000)
return 1
"""


def token_key(token: str) -> str:
    """Redis key of a token's pace; a hash, so the token itself never reaches Redis."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:24]
    return f"vkc:vk:pace:{digest}"


class RateLimiter:
    """Spaces requests at `1 / rps` (plus a safety margin for network jitter)."""

    def __init__(self, redis: Redis, token: str, rps: float, margin: float = 0.04) -> None:
        self.redis = redis
        self.key = token_key(token)
        self.interval_ms = 1000.0 / rps * (1.0 + margin)
        # `rps` intervals span the window plus `margin` of it: that is the room for network
        # jitter, so wake-up slack may use only a tenth of it.
        self.late_ms = 1000.0 * margin / 10
        self.penalties = 0

    async def acquire(self) -> None:
        """Return when this caller may send: the slot is taken by then."""
        args = (str(round(self.interval_ms * 1000)), str(round(self.late_ms * 1000)))
        while True:
            wait_us = int(await self.redis.eval(_TAKE, 1, self.key, *args))  # type: ignore[misc]
            if wait_us <= 0:
                return
            await asyncio.sleep(wait_us / 1_000_000)

    async def penalize(self) -> None:
        """VK said "too many requests": pause the shared pace for one full window."""
        self.penalties += 1
        await self.redis.eval(_PENALIZE, 1, self.key, "1000000")  # type: ignore[misc]
