"""Data model of the fake VK wall, deterministic wall builders and the demo-wall loader.

The HTTP server in :mod:`fakevk.api` serves these objects; this module only knows about
walls, posts and comments, so builders and the demo JSON can be used without aiohttp.

Conventions (mirroring VK):

* Post ids and comment ids of one community share a single counter, as on a real wall, so a
  reply's id is always greater than its parent's and than the post's.
* VK threads are two levels deep: a top-level comment and its flat list of replies.  A reply to
  a reply stays in the root's thread and remembers whom it answered in ``reply_to``.
* A deleted comment keeps its id, date and replies but loses its text (``text == ""``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FakeComment",
    "FakeGroup",
    "FakePost",
    "build_synthetic_wall",
    "group_from_dict",
    "group_to_dict",
    "load_demo_groups",
    "shift_dates",
]


@dataclass
class FakeComment:
    """One wall comment; top-level comments carry their thread in ``replies`` (sorted by id)."""

    id: int
    from_id: int
    date: int
    text: str
    deleted: bool = False
    replies: list[FakeComment] = field(default_factory=list)
    likes: int = 0
    # Only for replies: the comment this one answers (the root or another reply of the same
    # thread).  None means "the root", which is what most replies answer.
    reply_to: int | None = None


@dataclass
class FakePost:
    """A wall post; ``comments`` are the top-level comments, sorted by id."""

    id: int
    date: int
    text: str
    comments: list[FakeComment]
    is_pinned: bool = False
    comments_closed: bool = False  # wall.getComments answers error 212


@dataclass
class FakeGroup:
    """A community.  ``private`` and ``deleted`` switch wall access off the way VK does."""

    id: int
    screen_name: str
    name: str
    posts: list[FakePost]
    private: bool = False  # groups.getById is_closed=1; wall.get -> 30, wall.getComments -> 15
    deleted: bool = False  # groups.getById deactivated="deleted"; wall methods -> 18
    type: str = "page"  # VK community type: "page" (public page) or "group"


# Fixed epoch for synthetic walls (2023-11-14 22:13:20 UTC) so builds are reproducible.
SYNTHETIC_START_DATE = 1_700_000_000
_POST_SPACING = 7_200  # two hours between synthetic posts


def build_synthetic_wall(
    group_id: int,
    screen_name: str,
    posts: int,
    comments_per_post: int,
    *,
    texts: list[str],
    replies_every: int = 5,
    deleted_every: int = 37,
    pinned: bool = True,
    seed: int = 1,
    closed_every: int = 0,
    start_date: int = SYNTHETIC_START_DATE,
) -> FakeGroup:
    """Build a deterministic wall of ``posts`` posts with ``comments_per_post`` comments each.

    ``comments_per_post`` counts every comment of a post, replies included, so the wall holds
    exactly ``posts * comments_per_post`` comments.  Every ``replies_every``-th comment of a
    post is a reply: every other reply goes to the post's first comment (a "hot" thread, longer
    than 10 replies from 105 comments per post with the default of 5 -- 12 at 120 -- so clients
    must page it with ``comment_id``), the rest to a random earlier top-level comment.  Every
    ``deleted_every``-th comment of the whole wall is deleted.  The oldest post is pinned when
    ``pinned``; every ``closed_every``-th post has comments closed (0 = none).  Same arguments
    give the same wall.
    """
    if not texts:
        raise ValueError("texts must not be empty")
    if posts < 0 or comments_per_post < 0:
        raise ValueError("posts and comments_per_post must be >= 0")
    rng = random.Random(seed)
    # A bounded pool of authors so that "top commenters" style analytics see repeat authors.
    authors = max(10, min(50_000, posts * comments_per_post // 8))
    next_id = 1
    wall_comment_no = 0
    post_list: list[FakePost] = []
    for i in range(posts):
        post_date = start_date + i * _POST_SPACING
        post = FakePost(
            id=next_id,
            date=post_date,
            text=texts[rng.randrange(len(texts))],
            comments=[],
            is_pinned=pinned and i == 0,
            comments_closed=closed_every > 0 and (i + 1) % closed_every == 0,
        )
        next_id += 1
        for k in range(comments_per_post):
            wall_comment_no += 1
            deleted = deleted_every > 0 and wall_comment_no % deleted_every == 0
            comment = FakeComment(
                id=next_id,
                from_id=1_000 + rng.randrange(authors),
                # Minutes apart, strictly increasing with the id, like real arrival order.
                date=post_date + 60 * (k + 1) + rng.randrange(60),
                text="" if deleted else texts[rng.randrange(len(texts))],
                deleted=deleted,
                # From the id, not the generator, so walls built before likes stay the same.
                likes=0 if deleted else next_id * 7 % 11,
            )
            next_id += 1
            is_reply = replies_every > 0 and (k + 1) % replies_every == 0 and post.comments
            if is_reply:
                # Alternate: even replies feed the hot thread, odd ones a random root.
                hot = ((k + 1) // replies_every) % 2 == 1
                parent = post.comments[0] if hot else rng.choice(post.comments)
                if parent.replies and rng.random() < 0.3:
                    comment.reply_to = rng.choice(parent.replies).id
                parent.replies.append(comment)
            else:
                post.comments.append(comment)
        post_list.append(post)
    return FakeGroup(id=group_id, screen_name=screen_name, name=screen_name, posts=post_list)


def _comment_to_dict(comment: FakeComment) -> dict[str, Any]:
    # Default-valued fields are omitted to keep the shipped demo JSON small.
    data: dict[str, Any] = {
        "id": comment.id,
        "from_id": comment.from_id,
        "date": comment.date,
        "text": comment.text,
    }
    if comment.deleted:
        data["deleted"] = True
    if comment.reply_to is not None:
        data["reply_to"] = comment.reply_to
    if comment.likes:
        data["likes"] = comment.likes
    if comment.replies:
        data["replies"] = [_comment_to_dict(r) for r in comment.replies]
    return data


def _comment_from_dict(data: dict[str, Any]) -> FakeComment:
    return FakeComment(
        id=int(data["id"]),
        from_id=int(data["from_id"]),
        date=int(data["date"]),
        text=str(data.get("text", "")),
        deleted=bool(data.get("deleted", False)),
        replies=[_comment_from_dict(r) for r in data.get("replies", [])],
        reply_to=None if data.get("reply_to") is None else int(data["reply_to"]),
        likes=int(data.get("likes", 0)),
    )


def group_to_dict(group: FakeGroup) -> dict[str, Any]:
    """Serialise a group to the JSON-ready shape used by ``fakevk/sample_wall.json``."""
    return {
        "id": group.id,
        "screen_name": group.screen_name,
        "name": group.name,
        "type": group.type,
        "private": group.private,
        "deleted": group.deleted,
        "posts": [
            {
                "id": p.id,
                "date": p.date,
                "text": p.text,
                "is_pinned": p.is_pinned,
                "comments_closed": p.comments_closed,
                "comments": [_comment_to_dict(c) for c in p.comments],
            }
            for p in group.posts
        ],
    }


def group_from_dict(data: dict[str, Any]) -> FakeGroup:
    """Inverse of :func:`group_to_dict`."""
    return FakeGroup(
        id=int(data["id"]),
        screen_name=str(data["screen_name"]),
        name=str(data["name"]),
        type=str(data.get("type", "page")),
        private=bool(data.get("private", False)),
        deleted=bool(data.get("deleted", False)),
        posts=[
            FakePost(
                id=int(p["id"]),
                date=int(p["date"]),
                text=str(p["text"]),
                is_pinned=bool(p.get("is_pinned", False)),
                comments_closed=bool(p.get("comments_closed", False)),
                comments=[_comment_from_dict(c) for c in p.get("comments", [])],
            )
            for p in data.get("posts", [])
        ],
    )


def _newest_date(groups: list[FakeGroup]) -> int | None:
    newest: int | None = None
    for group in groups:
        for post in group.posts:
            dates = [post.date]
            for comment in post.comments:
                dates.append(comment.date)
                dates.extend(r.date for r in comment.replies)
            top = max(dates)
            newest = top if newest is None else max(newest, top)
    return newest


def shift_dates(groups: list[FakeGroup], delta: int) -> None:
    """Move every post and comment date by ``delta`` seconds (in place)."""
    for group in groups:
        for post in group.posts:
            post.date += delta
            for comment in post.comments:
                comment.date += delta
                for reply in comment.replies:
                    reply.date += delta


def load_demo_groups(*, now: int | None = None) -> list[FakeGroup]:
    """Load the offline demo wall shipped as ``fakevk/sample_wall.json``.

    The file has fixed dates (reproducible builds).  Pass ``now`` (a unix time) to shift all
    dates so the newest item lands at ``now`` -- a demo that filters by "last N days" then has
    data to show whenever it is run.
    """
    # Imported here so that building synthetic walls never touches package data.
    from fakevk.demo import read_sample_wall

    groups = [group_from_dict(g) for g in read_sample_wall()["groups"]]
    if now is not None:
        newest = _newest_date(groups)
        if newest is not None:
            shift_dates(groups, now - newest)
    return groups
