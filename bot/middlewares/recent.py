"""A bounded memory of "when did we last see this key", shared by the flood guards."""

from __future__ import annotations

import time
from collections import OrderedDict


class RecentEvents:
    """Event times per key within `window` seconds; stale keys are dropped as new ones come.

    Keys are kept oldest-first, so pruning stops at the first fresh key, and at most
    `max_keys` are held: a flood of new senders cannot grow the memory without bound. Only the
    last `max_events` times of a key are kept; counts stop there, which is all a guard needs.
    """

    def __init__(self, window: float, max_events: int, max_keys: int = 10_000) -> None:
        self.window = window
        self.max_events = max_events
        self.max_keys = max_keys
        self._times: OrderedDict[int, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def add(self, key: int) -> int:
        """Record an event now; returns how many events the key had within the window."""
        now = time.monotonic()
        recent = [t for t in self._times.pop(key, []) if now - t < self.window]
        recent.append(now)
        self._times[key] = recent[-self.max_events :]
        self._prune(now)
        return len(self._times[key])

    def _prune(self, now: float) -> None:
        while self._times:
            key, times = next(iter(self._times.items()))
            if now - times[-1] < self.window and len(self._times) <= self.max_keys:
                return
            del self._times[key]
