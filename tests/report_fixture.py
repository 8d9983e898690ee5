"""A community with known numbers for the report tests, as a fake VK wall and as stored rows.

Dates are relative to today in the report's time zone, at fixed local hours, so the period
(the last 30 days) and the previous one always hold the same comments:

- last 30 days: 9 readable comments by 4 authors (2001: 3, 2002: 3, 2004: 2, 2003: 1), one of
  them a reply, 9 likes in all; 6 of them at 14:00-15:00; post 9 has 6, post 5 has 3; plus a
  deleted comment that no count includes;
- the 30 days before: 3 comments (by 2005 and 2006), so growth is +200.0 %.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from core.vk.wall_items import author_rows, comment_row, post_row
from fakevk.people import profile
from fakevk.wall import FakeComment, FakeGroup, FakePost

REPORT_GROUP = 888001
REPORT_SCREEN_NAME = "report_club"
REPORT_NAME = "Клуб отчётов"
ZONE = ZoneInfo("Europe/Moscow")

CURRENT = 9
PREVIOUS = 3
AUTHORS = 4
REPLIES = 1
LIKES = 9
BUSIEST_HOUR = 14
TOP_POSTS = [(9, 6), (5, 3)]  # (post id, comments)
TOP_AUTHORS = [(2001, 3), (2002, 3), (2004, 2), (2003, 1)]
STORED = CURRENT + PREVIOUS
LAST_7_DAYS = (6, 3)  # comments, authors


def busiest_weekday(zone: tzinfo = ZONE) -> int:
    """Two days ago (6 comments on its weekday against at most 3 on any other)."""
    return (datetime.now(zone).date() - timedelta(days=2)).weekday()


def report_group(zone: tzinfo = ZONE, today: date | None = None) -> FakeGroup:
    day = today or datetime.now(zone).date()
    ids: Iterator[int] = itertools.count(1)

    def at(days_ago: int, hour: int) -> int:
        return int(
            datetime.combine(day - timedelta(days=days_ago), time(hour, 5), zone).timestamp()
        )

    def comment(author: int, days_ago: int, hour: int, likes: int = 0, **extra: Any) -> FakeComment:
        return FakeComment(
            next(ids), author, at(days_ago, hour), f"текст {author}", likes=likes, **extra
        )

    def post(days_ago: int, text: str) -> FakePost:
        return FakePost(next(ids), at(days_ago, 8), text, [])

    old = post(45, "Старый пост")
    old.comments = [comment(2005, 45, 11), comment(2005, 40, 11), comment(2006, 35, 12)]
    middle = post(10, "Пост про рыбалку")
    middle.comments = [comment(2002, 10, 14, 2), comment(2004, 9, 14, 1), comment(2004, 8, 20)]
    hot = post(2, "Горячее обсуждение")
    first = comment(2001, 2, 14, 5)
    first.replies = [comment(2002, 2, 15, 1)]
    hot.comments = [
        first,
        comment(2001, 2, 14),
        comment(2001, 1, 14),
        comment(2003, 3, 16),
        comment(2002, 1, 14),
        FakeComment(next(ids), 0, at(1, 14), "", deleted=True),
    ]
    assert [old.id, middle.id, hot.id] == [1, 5, 9]
    return FakeGroup(REPORT_GROUP, REPORT_SCREEN_NAME, REPORT_NAME, [hot, middle, old])


def stored_rows(group: FakeGroup, zone: tzinfo) -> tuple[list[dict[str, Any]], ...]:
    """The group as the parser stores it: posts, comments, authors (same row makers)."""
    owner = -group.id
    posts, comments, authors = [], [], []
    for post in group.posts:
        posts.append(post_row(owner, {"id": post.id, "date": post.date, "text": post.text}))
        for top in post.comments:
            for item, parent in [(top, None), *((reply, top.id) for reply in top.replies)]:
                vk = {
                    "id": item.id,
                    "from_id": item.from_id,
                    "date": item.date,
                    "text": item.text,
                    "deleted": item.deleted,
                    "likes": {"count": item.likes},
                }
                comments.append(comment_row(owner, post.id, vk, parent, zone))
                if item.from_id > 0:
                    authors += author_rows({"profiles": [profile(item.from_id)]})
    return posts, comments, authors
