"""One VK request pace per token, shared through Redis by every job in every worker."""

from __future__ import annotations

import asyncio
import hashlib

from redis.asyncio import Redis

# Reserve the next free slot on a shared timeline (GCRA): each caller gets its own send time, so
# callers never stampede and the pace holds across processes and machines.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
redis.call('SET', KEYS[1], start + tonumber(ARGV[1]), 'PX', 60000)
return start - now
"""

# After VK's error 6 everybody waits: move the shared timeline forward.
_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
        self.penalties = 0

    async def acquire(self) -> None:
        wait_ms = await self.redis.eval(_RESERVE, 1, self.key, str(int(self.interval_ms)))  # type: ignore[misc]
        if int(wait_ms) > 0:
            await asyncio.sleep(int(wait_ms) / 1000)

    async def penalize(self) -> None:
        """VK said "too many requests": pause the shared pace for one full window."""
        self.penalties += 1
        await self.redis.eval(_PENALIZE, 1, self.key, "1000")  # type: ignore[misc]
