"""Generate ``fakevk/sample_wall.json``, the offline demo wall, from the UD Russian-Taiga corpus.

Usage::

    python scripts/build_demo_wall.py            # (re)write fakevk/sample_wall.json
    python scripts/build_demo_wall.py --check    # exit 1 if the shipped file is out of date

Only the ``genre = social`` sentences (Instagram posts and comments) are used.  In the corpus a
sentence with a ``# speaker`` line starts a new message and the following speaker-less sentences
continue it; messages that start with ``@screened-N`` answer user N.  The script rebuilds those
messages, turns 25 long ones into posts and hands out the rest as comments in corpus order (so
comments mostly stay next to the post they were written under), turning ``@``-answers into VK
thread replies.  On top of the natural data it forces the edge cases a client must handle: two
threads longer than 10 replies (one under a deleted root), a few deleted comments, a pinned old
post and a post with comments closed.  Everything is deterministic: same corpus -> same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow running from a plain checkout
    sys.path.insert(0, str(ROOT))

from fakevk.demo import (  # noqa: E402
    DEMO_GROUP_ID,
    DEMO_GROUP_NAME,
    DEMO_SCREEN_NAME,
    SAMPLE_WALL_FILE,
)
from fakevk.wall import FakeComment, FakeGroup, FakePost, group_to_dict  # noqa: E402

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
CORPUS_FILE = CORPUS_DIR / "ru_taiga-ud-dev.conllu"
OUT_FILE = ROOT / "fakevk" / SAMPLE_WALL_FILE

ATTRIBUTION = (
    "UD Russian-Taiga, CC BY-SA 4.0, Lyashevskaya et al.; Shavrina & Shapovalova, Taiga corpus"
)
SOURCE = "UD_Russian-Taiga dev split (ru_taiga-ud-dev.conllu), sentences with genre = social"

POSTS = 25
MIN_COMMENTS, MAX_COMMENTS = 3, 30
POST_MAX_SENTENCES = 6  # longer messages continue as the author's own comments
UNIT_MAX_SENTENCES = 3  # long comment messages are split into several comments
HOT_THREAD_REPLIES = 12  # > 10, so a client must page the thread with comment_id
DELETED_EVERY = 29
CLOSED_POST_INDEX = 5  # chronological index of the post with comments closed
SEED = DEMO_GROUP_ID
# The newest post; comments follow within a few days, all before 2026-11-27.
NEWEST_POST_DATE = int(datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp())
USER_ID_BASE = 100_000  # "screened-N" -> VK user id USER_ID_BASE + N

_MENTION_RE = re.compile(r"^@(screened-\d+)")


@dataclass
class Message:
    """Consecutive social sentences of one speaker."""

    speaker: str
    sentences: list[str]


@dataclass
class Unit:
    """One future comment: its author and text."""

    speaker: str
    text: str


@dataclass
class PostDraft:
    speaker: str
    text: str
    units: list[Unit] = field(default_factory=list)


def read_social_messages(path: Path) -> list[Message]:
    """Parse the CoNLL-U file and group its social sentences into messages."""
    messages: list[Message] = []
    meta: dict[str, str] = {}
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.rstrip("\n")
        if line.startswith("# "):
            key, _, value = line[2:].partition(" = ")
            meta[key.strip()] = value.strip()
            continue
        if line.strip() or not meta:
            continue
        # A blank line ends a sentence: its comments have been collected in ``meta``.
        if meta.get("genre") == "social" and meta.get("text"):
            speaker = meta.get("speaker")
            if speaker or not messages:
                messages.append(Message(speaker or "screened-0", [meta["text"]]))
            else:
                messages[-1].sentences.append(meta["text"])
        meta = {}
    return messages


def _chunks(sentences: list[str], size: int) -> list[str]:
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def draft_posts(messages: list[Message]) -> list[PostDraft]:
    """Pick POSTS long messages as posts; the following messages become their comments."""
    candidates = [
        i for i, m in enumerate(messages) if len(m.sentences) >= 3 and m.sentences[0][:1] != "@"
    ]
    if len(candidates) < POSTS:
        raise SystemExit(f"corpus has only {len(candidates)} post-like messages, need {POSTS}")
    # Evenly spread over the corpus, so every topic (travel, hotel, holidays, ...) gets a post.
    step = (len(candidates) - 1) / (POSTS - 1)
    post_at = {candidates[round(k * step)] for k in range(POSTS)}
    drafts: list[PostDraft] = []
    leading: list[Unit] = []  # comments before the first post go under the first post
    for i, message in enumerate(messages):
        if i in post_at:
            drafts.append(
                PostDraft(message.speaker, " ".join(message.sentences[:POST_MAX_SENTENCES]))
            )
            rest = message.sentences[POST_MAX_SENTENCES:]
            drafts[-1].units.extend(
                Unit(message.speaker, t) for t in _chunks(rest, UNIT_MAX_SENTENCES)
            )
            if len(drafts) == 1:
                drafts[0].units[:0] = leading
            continue
        units = [Unit(message.speaker, t) for t in _chunks(message.sentences, UNIT_MAX_SENTENCES)]
        (drafts[-1].units if drafts else leading).extend(units)
    _rebalance(drafts)
    return drafts


def _rebalance(drafts: list[PostDraft]) -> None:
    """Move comments across post boundaries so each post has MIN..MAX comments."""
    carry: list[Unit] = []
    for draft in drafts:
        units = carry + draft.units
        draft.units, carry = units[:MAX_COMMENTS], units[MAX_COMMENTS:]
    for i, draft in enumerate(drafts):
        while len(draft.units) < MIN_COMMENTS:
            donor = next(
                (d for d in [*drafts[i + 1 :], *reversed(drafts[:i])] if len(d.units) > 6), None
            )
            if donor is None:
                raise SystemExit("not enough comments in the corpus")
            take = donor.units.pop(0) if drafts.index(donor) > i else donor.units.pop()
            draft.units.append(take)
    # Leftovers (only if every post is full) are dropped: the demo must stay small.


def build_group(drafts: list[PostDraft]) -> FakeGroup:
    """Turn the drafts into a FakeGroup with ids, dates, threads and the forced edge cases."""
    rng = random.Random(SEED)
    # Chronological post dates ending at NEWEST_POST_DATE, one post every ~1-2 days.
    dates = [NEWEST_POST_DATE]
    for _ in range(len(drafts) - 1):
        dates.append(dates[-1] - rng.randint(20, 44) * 3600 - rng.randrange(3600))
    dates.reverse()
    by_size = sorted(range(len(drafts)), key=lambda k: (-len(drafts[k].units), k))
    hot = [k for k in by_size if k not in (0, CLOSED_POST_INDEX)][:2]
    next_id = 1
    wall_comment_no = 0
    posts: list[FakePost] = []
    for k, draft in enumerate(drafts):
        post = FakePost(
            id=next_id,
            date=dates[k],
            text=draft.text,
            comments=[],
            is_pinned=k == 0,  # the oldest post is pinned, so it is listed first though old
            comments_closed=k == CLOSED_POST_INDEX,
        )
        next_id += 1
        date = post.date
        # speaker -> (root comment of the thread, that speaker's latest comment in it)
        last_by: dict[str, tuple[FakeComment, FakeComment]] = {}
        for n, unit in enumerate(draft.units):
            wall_comment_no += 1
            date += rng.randint(3, 150) * 60 + rng.randrange(60)
            deleted = wall_comment_no % DELETED_EVERY == 0
            if k == hot[1] and n == 0:
                deleted = True  # a deleted root whose replies must still be collected
            comment = FakeComment(
                id=next_id,
                from_id=_user_id(unit.speaker),
                date=date,
                text="" if deleted else unit.text,
                deleted=deleted,
            )
            next_id += 1
            root: FakeComment | None = None
            if k in hot and 1 <= n <= HOT_THREAD_REPLIES:
                root = post.comments[0]
            else:
                mention = _MENTION_RE.match(unit.text)
                target = mention.group(1) if mention else None
                if target and target != unit.speaker and target in last_by:
                    root, answered = last_by[target]
                    if answered is not root:
                        comment.reply_to = answered.id
            if root is None:
                post.comments.append(comment)
                last_by[unit.speaker] = (comment, comment)
            else:
                root.replies.append(comment)
                last_by[unit.speaker] = (root, comment)
        posts.append(post)
    return FakeGroup(
        id=DEMO_GROUP_ID,
        screen_name=DEMO_SCREEN_NAME,
        name=DEMO_GROUP_NAME,
        posts=posts,
    )


def _user_id(speaker: str) -> int:
    digits = speaker.rpartition("-")[2]
    return USER_ID_BASE + (int(digits) if digits.isdigit() else 0)


def build_payload(corpus_file: Path = CORPUS_FILE) -> dict[str, Any]:
    """Build the whole sample_wall.json document."""
    group = build_group(draft_posts(read_social_messages(corpus_file)))
    return {
        "format": 1,
        "attribution": ATTRIBUTION,
        "license": "CC BY-SA 4.0",
        "source": SOURCE,
        "generator": "scripts/build_demo_wall.py",
        "groups": [group_to_dict(group)],
    }


def render(payload: dict[str, Any]) -> str:
    """Serialise like the shipped file (UTF-8 text, one-space indent, trailing newline)."""
    return json.dumps(payload, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_FILE, help="CoNLL-U file")
    parser.add_argument("--out", type=Path, default=OUT_FILE, help="output JSON file")
    parser.add_argument("--check", action="store_true", help="only compare with --out")
    args = parser.parse_args(argv)
    text = render(build_payload(args.corpus))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/build_demo_wall.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text, encoding="utf-8")
    group = payload_stats(json.loads(text))
    print(f"wrote {args.out} ({len(text.encode('utf-8')):,} bytes): {group}")
    return 0


def payload_stats(payload: dict[str, Any]) -> str:
    """A one-line summary for humans: posts, comments, replies, deleted."""
    posts = payload["groups"][0]["posts"]
    top = [c for p in posts for c in p["comments"]]
    replies = [r for c in top for r in c.get("replies", [])]
    deleted = sum(1 for c in [*top, *replies] if c.get("deleted"))
    longest = max((len(c.get("replies", [])) for c in top), default=0)
    return (
        f"{len(posts)} posts, {len(top)} top-level comments, {len(replies)} replies "
        f"(longest thread {longest}), {deleted} deleted"
    )


if __name__ == "__main__":
    raise SystemExit(main())
