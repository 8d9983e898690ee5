"""The plain VK methods :class:`fakevk.api.FakeVK` serves, over :class:`FakeWalls`.

``groups.getById``, ``utils.resolveScreenName``, ``wall.get`` and ``wall.getComments``, with
VK's parameter checks, access errors and object shapes.  Each handler takes the walls and the
call's parameters as form strings and returns the ``response`` value or raises
:class:`FakeApiError`; ``execute`` is in :mod:`fakevk.execute`.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from fakevk.index import FakeWalls, GroupIndex, PostIndex
from fakevk.people import profile
from fakevk.wall import FakeComment, FakeGroup, FakePost

MAX_PAGE = 100  # VK clamps wall.get / wall.getComments count to 100
MAX_THREAD_ITEMS = 10  # wall.getComments thread_items_count upper bound

Params = dict[str, str]
Handler = Callable[[FakeWalls, Params], Any]


class FakeApiError(Exception):
    """A VK API error; becomes ``{"error": {...}}`` or an ``execute_errors`` entry."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"[{code}] {msg}")
        self.code = code
        self.msg = msg


def invalid_param(detail: str) -> FakeApiError:
    return FakeApiError(100, f"One of the parameters specified was missing or invalid: {detail}")


def dumps(value: Any) -> str:
    """JSON as VK writes it: compact, with non-ASCII text left as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- parameter helpers ---------------------------------------------------------------------


def _int(params: Params, name: str, default: int | None = None) -> int:
    raw = params.get(name, "").strip()
    if raw == "":
        if default is None:
            raise invalid_param(f"{name} is undefined")
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_param(f"{name} not integer") from None


def _page(params: Params, default_count: int) -> tuple[int, int]:
    offset = _int(params, "offset", 0)
    count = _int(params, "count", default_count)
    if count < 0:
        raise invalid_param("count should be positive")
    return offset, min(count, MAX_PAGE)


def _wall_group(walls: FakeWalls, params: Params, *, comments: bool) -> GroupIndex:
    """The community whose wall is asked for, after VK's access checks."""
    gi: GroupIndex | None
    if params.get("owner_id", "").strip():
        owner_id = _int(params, "owner_id")
        # Only communities exist here; a positive owner_id would be a user wall.
        gi = walls.group(-owner_id) if owner_id < 0 else None
    elif params.get("domain", "").strip() and not comments:
        gi = walls.group_by_ref(params["domain"])
    else:
        raise invalid_param("owner_id is undefined")
    if gi is None:
        raise invalid_param("owner_id is incorrect")
    if gi.group.deleted:
        raise FakeApiError(18, "User was deleted or banned")
    if gi.group.private:
        if comments:
            raise FakeApiError(15, "Access denied: this wall available only for community members")
        raise FakeApiError(30, "This profile is private")
    return gi


# --- methods -------------------------------------------------------------------------------


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


def _groups_get_by_id(walls: FakeWalls, params: Params) -> Any:
    raw = params.get("group_ids") or params.get("group_id") or ""
    refs = [r for r in raw.split(",") if r.strip()]
    found = [gi for gi in (walls.group_by_ref(r) for r in refs) if gi is not None]
    if not found:  # VK drops unknown ids silently and fails only when none is left
        raise invalid_param("group_ids is undefined")
    return {"groups": [_group_object(gi.group) for gi in found], "profiles": []}


def _resolve_screen_name(walls: FakeWalls, params: Params) -> Any:
    name = params.get("screen_name", "").strip()
    if not name:
        raise invalid_param("screen_name is undefined")
    gi = None if name.lstrip("-").isdigit() else walls.group_by_ref(name)
    if gi is None:
        return []  # VK answers an empty array, not an error, for unknown names
    return {"type": "group", "object_id": gi.group.id}


def _wall_get(walls: FakeWalls, params: Params) -> Any:
    gi = _wall_group(walls, params, comments=False)
    offset, count = _page(params, 20)
    if offset < 0:
        raise invalid_param("offset should be positive")
    owner_id = -gi.group.id
    posts = gi.order
    if params.get("filter", "all") not in ("all", "owner", ""):
        posts = []  # every fake post is by the community itself
    items = [_post_object(gi, p, owner_id) for p in posts[offset : offset + count]]
    result: dict[str, Any] = {"count": len(posts), "items": items}
    if params.get("extended") == "1":
        result["profiles"] = []
        result["groups"] = [_group_object(gi.group)]
    return result


def _post_object(gi: GroupIndex, post: FakePost, owner_id: int) -> dict[str, Any]:
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


def _wall_get_comments(walls: FakeWalls, params: Params) -> Any:
    gi = _wall_group(walls, params, comments=True)
    post_id = _int(params, "post_id")
    pi = gi.posts.get(post_id)
    if pi is None:
        raise invalid_param("post not found")
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
            raise invalid_param("comment not found")
        listing, ids = root.replies, pi.reply_ids.get(root_id, [])
    else:
        listing, ids = pi.post.comments, pi.top_ids
    total = len(ids)

    start = offset
    if params.get("start_comment_id", "").strip():
        start_id = _int(params, "start_comment_id")
        at = bisect_left(ids, start_id)
        if at == total or ids[at] != start_id:
            raise invalid_param("start_comment_id is incorrect")
        start = (total - 1 - at if desc else at) + offset
        start = max(0, start)  # with start_comment_id a negative offset looks back
    elif offset < 0:
        raise invalid_param("offset should be positive")
    stop = min(total, start + count)
    # Positions in the requested order map to list indexes without copying the list.
    indexes = range(total - 1 - start, total - 1 - stop, -1) if desc else range(start, stop)

    likes = params.get("need_likes") == "1"
    items = [
        _comment_object(pi, listing[i], owner_id, preview, root, thread_items, likes)
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
        result.update(_authors_of(items, gi.group))
    return result


def _authors_of(items: list[dict[str, Any]], group: FakeGroup) -> dict[str, Any]:
    """`profiles` and `groups` of an extended answer: every author of the items (replies in
    threads too), and the community itself."""
    authors: set[int] = set()
    for item in items:
        authors.add(int(item.get("from_id", 0)))
        authors.update(int(r.get("from_id", 0)) for r in item.get("thread", {}).get("items", []))
    return {
        "profiles": [profile(user) for user in sorted(a for a in authors if a > 0)],
        "groups": [_group_object(group)],
    }


def _comment_object(
    pi: PostIndex,
    comment: FakeComment,
    owner_id: int,
    preview: int,
    root: FakeComment | None,
    thread_items: int,
    likes: bool = False,
) -> dict[str, Any]:
    """One comment as VK renders it.  ``root`` is set for replies (they get
    ``parents_stack``/``reply_to_*``); top-level comments get a ``thread`` showing their
    first ``thread_items`` replies; ``likes`` (``need_likes=1``) adds the like count."""
    obj: dict[str, Any] = {"id": comment.id}
    if comment.deleted:
        obj.update(deleted=True, from_id=0, date=comment.date, text="")
    else:
        text = comment.text[:preview] if preview else comment.text
        obj.update(from_id=comment.from_id, date=comment.date, text=text)
    obj.update(post_id=pi.post.id, owner_id=owner_id)
    if likes and not comment.deleted:
        obj["likes"] = {"count": comment.likes, "user_likes": 0, "can_like": 1}
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
                _comment_object(pi, r, owner_id, preview, comment, 0, likes)
                for r in comment.replies[:thread_items]
            ],
            "can_post": True,
            "show_reply_button": True,
            "groups_can_post": True,
        }
    return obj


METHODS: dict[str, Handler] = {
    "groups.getById": _groups_get_by_id,
    "utils.resolveScreenName": _resolve_screen_name,
    "wall.get": _wall_get,
    "wall.getComments": _wall_get_comments,
}
