"""Crontab rules as APScheduler triggers, and the slots they fire at (pure: no I/O).

A rule has crontab's five fields (`0 9 * * *`: minute, hour, day of month, month, day of week);
a sixth, leading field of seconds is accepted too (`*/5 * * * * *`, for tests and fine rules).
Weekday numbers mean what they mean in crontab (0 and 7 are Sunday), not APScheduler 3's own
numbering (0 is Monday there).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
TICK = timedelta(microseconds=1)
# Bound on the slots walked when looking back for a missed one (a rule every second over a
# grace period of a day is 86,400; more than this is not a schedule anyone means).
MAX_SLOTS_WALKED = 200_000


def cron_trigger(rule: str, zone: tzinfo | str) -> CronTrigger:
    """The trigger of a rule; ValueError names what is wrong with it."""
    fields = rule.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    second, minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=zone,
    )


def crontab_weekdays(field: str) -> str:
    """Crontab's weekday field with its numbers (0-7, Sunday first) turned into names."""
    if field == "*" or any(c.isalpha() for c in field):
        return field.lower()
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = int(low)
            last = int(high) if high else (6 if step_text else first)
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step >= 1):
            raise ValueError(f"weekday {part!r} is out of 0-7")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def next_slot(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first slot strictly after `after`."""
    found: datetime | None = trigger.get_next_fire_time(None, after + TICK)
    return found


def latest_slot(trigger: CronTrigger, now: datetime, since: datetime) -> datetime | None:
    """The most recent slot in (since, now], or None when there is none."""
    latest = None
    slot = next_slot(trigger, since)
    for _ in range(MAX_SLOTS_WALKED):
        if slot is None or slot > now:
            return latest
        latest = slot
        slot = next_slot(trigger, slot)
    return latest
