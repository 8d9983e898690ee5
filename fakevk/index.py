"""The walls :class:`fakevk.api.FakeVK` serves, indexed so one request costs O(page).

:class:`FakeWalls` owns the lookup tables and the only supported ways to change a wall while it
is being served (:meth:`FakeWalls.add_comment`, :meth:`FakeWalls.delete_comment`,
:meth:`FakeWalls.add_post`), which keep those tables in sync.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left

from fakevk.wall import FakeComment, FakeGroup, FakePost

_NUMERIC_ALIAS_RE = re.compile(r"(?:club|public|event)(\d+)")


class PostIndex:
    """Per-post lookup tables; kept in sync by :meth:`FakeWalls.add_comment` & co."""

    __slots__ = ("post", "reply_ids", "reply_root", "top_by_id", "top_ids", "total")

    def __init__(self, post: FakePost) -> None:
        # The listing order is the id order; normalise once so bisect works.
        post.comments.sort(key=lambda c: c.id)
        self.post = post
        self.top_ids: list[int] = [c.id for c in post.comments]
        self.top_by_id: dict[int, FakeComment] = {c.id: c for c in post.comments}
        self.reply_ids: dict[int, list[int]] = {}
        self.reply_root: dict[int, int] = {}  # reply id -> id of its thread's root
        # comments.count of the post: every comment incl. replies and deleted placeholders, so
        # the counts of a wall add up to len(FakeWalls.all_comment_keys()).
        self.total = len(post.comments)
        for comment in post.comments:
            self.total += len(comment.replies)
            if comment.replies:
                comment.replies.sort(key=lambda r: r.id)
                self.reply_ids[comment.id] = [r.id for r in comment.replies]
                for reply in comment.replies:
                    self.reply_root[reply.id] = comment.id

    def find(self, comment_id: int) -> FakeComment | None:
        """Any comment of the post (top-level or reply) by id, in O(log n)."""
        top = self.top_by_id.get(comment_id)
        if top is not None:
            return top
        root_id = self.reply_root.get(comment_id)
        if root_id is None:
            return None
        ids = self.reply_ids[root_id]
        return self.top_by_id[root_id].replies[bisect_left(ids, comment_id)]


class GroupIndex:
    __slots__ = ("group", "next_id", "order", "posts")

    def __init__(self, group: FakeGroup) -> None:
        self.group = group
        self.posts: dict[int, PostIndex] = {p.id: PostIndex(p) for p in group.posts}
        # wall.get listing: pinned first (even though old), then newest first; computed once.
        self.order: list[FakePost] = sorted(
            group.posts, key=lambda p: (not p.is_pinned, -p.date, -p.id)
        )
        # Posts and comments share one id counter per wall, as on VK.
        top = 0
        for index in self.posts.values():
            top = max(top, index.post.id, *index.top_ids, *index.reply_root)
        self.next_id = top + 1

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


class FakeWalls:
    """Communities by id and screen name, with the editing helpers tests call mid-paging."""

    def __init__(self, groups: list[FakeGroup]) -> None:
        self._groups: dict[int, GroupIndex] = {}
        self._by_name: dict[str, int] = {}
        for group in groups:
            self._groups[group.id] = GroupIndex(group)
            self._by_name[group.screen_name.lower()] = group.id

    def group(self, group_id: int) -> GroupIndex | None:
        """A community by its (positive) id."""
        return self._groups.get(group_id)

    def group_by_ref(self, ref: str) -> GroupIndex | None:
        """A community by numeric id, screen_name or a clubN/publicN alias."""
        ref = ref.strip().lower()
        if ref.lstrip("-").isdigit():
            return self._groups.get(abs(int(ref)))
        gid = self._by_name.get(ref)
        if gid is None:
            m = _NUMERIC_ALIAS_RE.fullmatch(ref)
            gid = int(m.group(1)) if m else None
        return None if gid is None else self._groups.get(gid)

    def _group_for_owner(self, owner_id: int) -> GroupIndex:
        try:
            return self._groups[abs(owner_id)]
        except KeyError:
            raise KeyError(f"no group for owner_id {owner_id}") from None

    def _post_index(self, owner_id: int, post_id: int) -> tuple[GroupIndex, PostIndex]:
        gi = self._group_for_owner(owner_id)
        try:
            return gi, gi.posts[post_id]
        except KeyError:
            raise KeyError(f"no post {owner_id}_{post_id}") from None

    def add_comment(
        self,
        owner_id: int,
        post_id: int,
        text: str,
        reply_to: int | None = None,
        *,
        from_id: int = 1,
    ) -> FakeComment:
        """Add a comment (next wall id, date = now), e.g. from ``on_request`` mid-paging.

        ``owner_id`` is VK's (``-group_id``; the positive id is accepted too).  ``reply_to``
        may name a top-level comment or a reply; a reply to a reply joins the root's thread.
        """
        gi, pi = self._post_index(owner_id, post_id)
        comment = FakeComment(id=gi.take_id(), from_id=from_id, date=int(time.time()), text=text)
        if reply_to is None:
            # A new id is the largest, so appending keeps the lists sorted for bisect.
            pi.post.comments.append(comment)
            pi.top_ids.append(comment.id)
            pi.top_by_id[comment.id] = comment
        else:
            root_id = reply_to if reply_to in pi.top_by_id else pi.reply_root.get(reply_to)
            if root_id is None:
                raise KeyError(f"no comment {reply_to} under post {owner_id}_{post_id}")
            comment.reply_to = reply_to
            pi.top_by_id[root_id].replies.append(comment)
            pi.reply_ids.setdefault(root_id, []).append(comment.id)
            pi.reply_root[comment.id] = root_id
        pi.total += 1
        return comment

    def delete_comment(self, owner_id: int, post_id: int, comment_id: int) -> FakeComment:
        """Mark a comment deleted (it keeps its place and replies, loses its text)."""
        _, pi = self._post_index(owner_id, post_id)
        comment = pi.find(comment_id)
        if comment is None:
            raise KeyError(f"no comment {comment_id} under post {owner_id}_{post_id}")
        comment.deleted = True
        comment.text = ""
        return comment

    def add_post(self, owner_id: int, text: str) -> FakePost:
        """Publish a new post (date = now): it shifts wall.get offsets, as on a live wall."""
        gi = self._group_for_owner(owner_id)
        post = FakePost(id=gi.take_id(), date=int(time.time()), text=text, comments=[])
        gi.group.posts.append(post)
        gi.posts[post.id] = PostIndex(post)
        pinned = sum(1 for p in gi.order[:1] if p.is_pinned)
        gi.order.insert(pinned, post)
        return post

    def all_comment_keys(self) -> set[tuple[int, int, int]]:
        """``(owner_id, post_id, comment_id)`` of every comment, replies and deleted included.

        ``owner_id`` is VK's, i.e. ``-group_id``.
        """
        keys: set[tuple[int, int, int]] = set()
        for gid, gi in self._groups.items():
            for post_id, pi in gi.posts.items():
                keys.update((-gid, post_id, cid) for cid in pi.top_ids)
                keys.update((-gid, post_id, cid) for cid in pi.reply_root)
        return keys
