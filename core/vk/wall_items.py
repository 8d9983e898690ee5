"""What :class:`core.vk.wall.WallParser` works with: the page requests it queues, what it keeps
per post while reading, its totals, and the database rows it makes of VK's posts and comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.vk.client import Call

PAGE = 100
THREAD_PREVIEW = 10


@dataclass
class Task:
    """One page of comments: top level of a post, or the replies of one comment."""

    post_id: int
    thread_of: int | None = None
    after: int | None = None

    def call(self, owner_id: int) -> Call:
        params: dict[str, Any] = {
            "owner_id": owner_id,
            "post_id": self.post_id,
            "count": PAGE,
            "sort": "asc",
            "preview_length": 0,
        }
        if self.thread_of is None:
            params["thread_items_count"] = THREAD_PREVIEW
        else:
            params["comment_id"] = self.thread_of
        if self.after is not None:
            params["start_comment_id"] = self.after
            params["offset"] = 1
        return Call("wall.getComments", params)


@dataclass
class WallPage:
    """One wall.get page of posts, newest first (a pinned post comes first)."""

    offset: int

    def call(self, owner_id: int) -> Call:
        return Call("wall.get", {"owner_id": owner_id, "offset": self.offset, "count": PAGE})


Item = Task | WallPage


@dataclass
class PostState:
    open_tasks: int = 0
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    skipped: bool = False
    failed: bool = False  # a page of it was lost to a job-ending error: never mark it done


@dataclass
class Totals:
    """What one parse did. The comment counters that people read add up across parses:
    the new ones summed, minus the deleted ones summed, is what the community has stored
    (readable comments), which is also what /keywords counts.
    """

    posts_scanned: int = 0  # read in full this time
    posts_skipped: int = 0  # of those, comments closed or private
    comments_parsed: int = 0  # rows VK gave this time, deleted ones too (the limit counts these)
    comments_saved: int = 0  # of those, readable (not deleted on VK)
    posts_unchanged: int = 0  # read in full before and not changed since: not read again
    comments_updated: int = 0  # stored before, and their text changed on VK
    comments_deleted: int = 0  # stored before as readable, now deleted on VK


def post_row(owner_id: int, post: dict[str, Any]) -> dict[str, Any]:
    return {
        "owner_id": owner_id,
        "post_id": int(post["id"]),
        "date": datetime.fromtimestamp(int(post.get("date", 0)), UTC),
        "text": str(post.get("text") or ""),
        "comments_count": int((post.get("comments") or {}).get("count", 0)),
        "is_pinned": bool(post.get("is_pinned")),
    }


def comment_row(
    owner_id: int, post_id: int, item: dict[str, Any], parent: int | None
) -> dict[str, Any]:
    deleted = bool(item.get("deleted"))
    return {
        "owner_id": owner_id,
        "post_id": post_id,
        "comment_id": int(item["id"]),
        "parent_id": parent,
        "from_id": int(item.get("from_id") or 0),
        "date": datetime.fromtimestamp(int(item.get("date") or 0), UTC),
        "text": "" if deleted else str(item.get("text") or ""),
        "deleted": deleted,
    }
