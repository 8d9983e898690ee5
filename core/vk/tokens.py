"""The VK token pool: one request pace per token and the tokens VK rejected, shared through Redis.

Every job in every worker takes its request slots here, so each token keeps to `VK_RPS` however
many workers use it, and a parse with N tokens sends up to N x `VK_RPS` requests a second. A token
VK rejects (error 5: authorization failed, 17: validation required) is set aside for
`ASIDE_TTL_S`, and one that used up VK's daily request limit (error 29) until VK's day ends, for
every worker at once; the others go on. Redis sees hashes of the tokens, never the tokens; people
see a short fingerprint.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from redis.asyncio import Redis

from core.i18n import N_, _
from core.vk.errors import VkError

log = logging.getLogger(__name__)

# Codes with which VK refuses a token itself (nothing sent with it works until a person acts),
# and what they mean.
REJECTED = {
    5: N_("VK rejected it (error 5: authorization failed)"),
    17: N_("VK wants its account validated (error 17)"),
}
# A set-aside token is tried again after this long (a validated account, a restored token).
ASIDE_TTL_S = 24 * 3600
# VK's daily request limit (error 29) holds until VK's day ends: midnight in Moscow (UTC+3 all
# year). A token that hit it is fine again then, so it is set aside only until that moment.
DAILY_LIMIT = 29
VK_DAY_ZONE = timezone(timedelta(hours=3))
# Why a token is set aside, by VK error code, for the log and /health.
ASIDE_REASONS = {
    **REJECTED,
    DAILY_LIMIT: N_("VK's daily request limit for it is reached (error 29)"),
}
_SENT_BUCKET_S = 60

# Take a slot of the first token (from ARGV[4] on, in turn) that is not set aside and is due
# (GCRA, as for one token): returns {index, 0}; when none is due {0, wait in us}; when every
# token is set aside {0, -1}. A caller that wakes a little late keeps the token's timeline (up to
# ARGV[2]: timer and Redis round-trip slack); one that wakes later moves it, instead of bunching
# with the callers after it. Times are in microseconds. KEYS: n paces, n aside marks, n counters.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS / 3
local wait = -1
for step = 0, n - 1 do
  local i = (tonumber(ARGV[4]) + step) % n + 1
  if redis.call('EXISTS', KEYS[n + i]) == 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat <= now then
      local start = math.max(tat, now - tonumber(ARGV[2]))
      redis.call('SET', KEYS[i], start + tonumber(ARGV[1]), 'PX', 60000)
      redis.call('INCR', KEYS[2 * n + i])
      redis.call('EXPIRE', KEYS[2 * n + i], tonumber(ARGV[3]))
      return {i, 0}
    end
    if wait < 0 or tat - now < wait then
      wait = tat - now
    end
  end
end
return {0, wait}
"""

# After VK's error 6 everybody waits: move the token's shared timeline forward.
_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(tat, now) + tonumber(ARGV[1]), 'PX', 60000)
return 1
"""


# A slot spent late (the caller's event loop was busy between taking and sending it) would bunch
# with the slots after it: move the token's timeline on by the delay (ARGV[1], in us).
_DELAY = """
local tat = redis.call('GET', KEYS[1])
if tat then
  redis.call('SET', KEYS[1], tonumber(tat) + tonumber(ARGV[1]), 'PX', 60000)
end
return 1
"""


def fingerprint(token: str) -> str:
    """What people see of a token: the first 4 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:4]


def seconds_until_vk_day_ends(now: datetime | None = None) -> int:
    """How long until VK's daily limits reset (at least a second)."""
    local = (now or datetime.now(VK_DAY_ZONE)).astimezone(VK_DAY_ZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class PoolToken:
    """One token of the pool with its Redis keys; its repr shows the fingerprint only."""

    __slots__ = ("aside_key", "fingerprint", "pace_key", "secret", "sent_prefix")

    def __init__(self, secret: str) -> None:
        digest = _digest(secret)
        self.secret = secret
        self.fingerprint = fingerprint(secret)
        self.pace_key = f"vkc:vk:pace:{digest}"
        self.aside_key = f"vkc:vk:aside:{digest}"
        self.sent_prefix = f"vkc:vk:sent:{digest}:"

    def sent_key(self, bucket: int) -> str:
        return f"{self.sent_prefix}{bucket}"

    def __repr__(self) -> str:
        return f"PoolToken({self.fingerprint})"


@dataclass(frozen=True)
class Slot:
    """A request slot of a token, taken no earlier than `taken_at` (time.monotonic())."""

    token: PoolToken
    taken_at: float


@dataclass(frozen=True)
class TokenState:
    """A token as /health shows it."""

    fingerprint: str
    aside_code: int | None  # the VK error it was set aside for; None: usable
    aside_for_s: int  # seconds until it is tried again
    last_minute: int  # requests sent with it in about the last 60 s, by every worker


OnSetAside = Callable[[str, int], Awaitable[None]]  # fingerprint, VK error code


class TokenPool:
    """Hands out request slots over the usable tokens, each at `rps` (plus a safety margin
    for network jitter), and sets aside the tokens VK rejects."""

    def __init__(
        self,
        redis: Redis,
        tokens: Sequence[str],
        rps: float,
        *,
        margin: float = 0.08,
        on_set_aside: OnSetAside | None = None,
    ) -> None:
        self.tokens = [PoolToken(t) for t in dict.fromkeys(t for t in tokens if t)]
        if not self.tokens:
            raise ValueError("a token pool needs at least one token")
        self.redis = redis
        self.on_set_aside = on_set_aside
        self.interval_ms = 1000.0 / rps * (1.0 + margin)
        # `rps` intervals span the window plus `margin` of it: that is the room for network
        # jitter, so wake-up slack may use only a tenth of it.
        self.late_ms = 1000.0 * margin / 10
        # A slot spent up to this late still fits in the margin (half of it: the other half is
        # the network's); later, the token's timeline moves on by the delay.
        self.tolerance_s = margin / 2
        self.penalties = 0
        self.late_spends = 0
        self._turn = 0  # where the next search starts, so the tokens take turns

    async def acquire(self) -> Slot:
        """Return a token's slot once it may send. Raises a fatal VkError when every token is
        set aside. Tell `spent` when the request went out."""
        interval_us, late_us = round(self.interval_ms * 1000), round(self.late_ms * 1000)
        while True:
            bucket = int(time.time()) // _SENT_BUCKET_S
            keys = [t.pace_key for t in self.tokens] + [t.aside_key for t in self.tokens]
            keys += [t.sent_key(bucket) for t in self.tokens]
            self._turn = (self._turn + 1) % len(self.tokens)
            args = (str(interval_us), str(late_us), str(3 * _SENT_BUCKET_S), str(self._turn))
            asked = time.monotonic()
            index, wait_us = await self.redis.eval(_TAKE, len(keys), *keys, *args)  # type: ignore[misc]
            if index > 0:
                return Slot(self.tokens[int(index) - 1], asked)
            if wait_us < 0:
                await self._raise_all_aside()
                continue  # a mark expired meanwhile
            await asyncio.sleep(int(wait_us) / 1_000_000)

    async def _raise_all_aside(self) -> None:
        """Every token is set aside: raise why (a token back tomorrow, or VK rejected them)."""
        codes = {int(c) for c in await self.redis.mget([t.aside_key for t in self.tokens]) if c}
        if DAILY_LIMIT in codes:
            raise VkError(
                DAILY_LIMIT,
                _(
                    "VK's daily request limit is reached for every VK token (error 29): try "
                    "again tomorrow, or add tokens in VK_TOKENS"
                ),
                retry=False,
            )
        if codes:
            raise VkError(
                5,
                _(
                    "every VK token is set aside: VK rejected them (error 5 or 17); "
                    "check VK_TOKEN and VK_TOKENS"
                ),
                retry=False,
            )

    async def spent(self, slot: Slot, sent_at: float) -> None:
        """The slot's request went out at `sent_at` (time.monotonic()). One sent late (a busy
        event loop or thread between taking the slot and sending) pushes the token's later
        slots back by the delay, so that no 1 s window holds more than `rps` requests as VK
        counts them."""
        late = sent_at - slot.taken_at
        if late > self.tolerance_s:
            self.late_spends += 1
            delay_us = str(round(late * 1_000_000))
            await self.redis.eval(_DELAY, 1, slot.token.pace_key, delay_us)  # type: ignore[misc]

    async def penalize(self, token: PoolToken) -> None:
        """VK said "too many requests": pause this token's shared pace for one full window."""
        self.penalties += 1
        await self.redis.eval(_PENALIZE, 1, token.pace_key, "1000000")  # type: ignore[misc]

    async def set_aside(self, token: PoolToken, error: VkError) -> None:
        """Stop using a token VK rejected (until `ASIDE_TTL_S`) or that used up its daily
        limit (until VK's day ends), in every worker; the first to see it says so once.
        Only a rejected token is `on_set_aside` news: the daily limit passes by itself."""
        rejected = error.code in REJECTED
        ttl_s = ASIDE_TTL_S if rejected else seconds_until_vk_day_ends()
        if not await self.redis.set(token.aside_key, error.code, nx=True, ex=ttl_s):
            return
        # In English, as every log line: the msgid itself.
        log.warning(
            "VK token %s set aside for %d h %02d min: %s",
            token.fingerprint,
            ttl_s // 3600,
            ttl_s % 3600 // 60,
            ASIDE_REASONS.get(error.code, error.message),
        )
        if rejected and self.on_set_aside is not None:
            await self.on_set_aside(token.fingerprint, error.code)

    async def states(self) -> list[TokenState]:
        """Each token's state, for /health."""
        now = time.time()
        bucket = int(now) // _SENT_BUCKET_S
        # Sliding-window estimate: this minute's count plus the part of the last one still in it.
        earlier = 1.0 - (now % _SENT_BUCKET_S) / _SENT_BUCKET_S
        states = []
        for token in self.tokens:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(token.aside_key)
                pipe.pttl(token.aside_key)
                pipe.get(token.sent_key(bucket))
                pipe.get(token.sent_key(bucket - 1))
                code, pttl_ms, current, previous = await pipe.execute()
            sent = int(current or 0) + int(previous or 0) * earlier
            states.append(
                TokenState(
                    fingerprint=token.fingerprint,
                    aside_code=int(code) if code is not None else None,
                    aside_for_s=max(0, int(pttl_ms) // 1000),
                    last_minute=round(sent),
                )
            )
        return states
