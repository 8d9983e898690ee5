"""How the maintenance jobs speak: the cleanup's preview and result, the backup's result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from core.i18n import N_, _, current_language, ngettext, seconds_text
from core.reports.describe import day_text


def size_text(size: int) -> str:
    """A file size as people read it: 812 B, 14.2 KB, 3.5 MB."""
    if size < 1024:
        return _("{n} B", n=size)
    value, units = size / 1024, (N_("{size} KB"), N_("{size} MB"), N_("{size} GB"))
    unit = units[0]
    for unit in units:
        if value < 1024 or unit == units[-1]:
            break
        value /= 1024
    return _(unit, size=format_decimal(round(value, 1), locale=current_language()))


def deletion_counts(comments: int, analysed: int, posts: int) -> str:
    """ "12 comments (5 of them analysed) and 2 posts" """
    text = ngettext("{n} comment", "{n} comments", comments)
    if analysed:
        text += " " + ngettext(
            "({n} of them analysed, with their analysis)",
            "({n} of them analysed, with their analysis)",
            analysed,
        )
    return _(
        "{comments} and {posts}",
        comments=text,
        posts=ngettext("{n} post", "{n} posts", posts),
    )


def nothing_to_delete(days: int, cutoff: datetime, oldest: datetime | None) -> str:
    """Why a cleanup finds nothing: nothing stored, or nothing that old."""
    if oldest is None:
        return _("Nothing to delete: no comments are stored.")
    return ngettext(
        "Nothing to delete: no comment is older than {n} day (published before {cutoff}); "
        "the oldest stored one is from {oldest}.",
        "Nothing to delete: no comment is older than {n} days (published before {cutoff}); "
        "the oldest stored one is from {oldest}.",
        days,
        cutoff=day_text(cutoff.date()),
        oldest=day_text(oldest.date()),
    )


def preview_text(days: int, cutoff: datetime, comments: int, analysed: int, posts: int) -> str:
    """The question /cleanup asks before anything is deleted."""
    head = ngettext(
        "Older than {n} day (published before {cutoff}):",
        "Older than {n} days (published before {cutoff}):",
        days,
        cutoff=day_text(cutoff.date()),
    )
    return _(
        "🗑 {head} {counts} would be deleted, and the statistics of their days recounted.\n"
        "Delete them? The confirmation expires in 10 minutes.",
        head=head,
        counts=deletion_counts(comments, analysed, posts),
    )


def describe_cleanup(result: dict[str, Any]) -> str:
    """The cleanup's closing line: exactly what it deleted, or why nothing."""
    days = int(result.get("days", 0))
    cutoff = datetime.fromisoformat(result["cutoff"])
    comments, posts = int(result.get("comments", 0)), int(result.get("posts", 0))
    if not comments and not posts:
        oldest = result.get("oldest")
        return nothing_to_delete(days, cutoff, datetime.fromisoformat(oldest) if oldest else None)
    text = ngettext(
        "deleted {counts} older than {n} day (published before {cutoff})",
        "deleted {counts} older than {n} days (published before {cutoff})",
        days,
        counts=deletion_counts(comments, int(result.get("analysed", 0)), posts),
        cutoff=day_text(cutoff.date()),
    )
    recounted = int(result.get("days_recounted", 0))
    text += "; " + ngettext(
        "statistics of {n} day recounted", "statistics of {n} days recounted", recounted
    )
    return text + ", " + _("in {seconds} s", seconds=seconds_text(result["duration_s"])) + "."


NOT_SENT = {
    "group": N_("the file is sent only in a private chat with the bot"),
    "too_big": N_("the file is larger than Telegram's upload limit; fetch it from the server"),
    "no_chat": N_("the job has no chat to send the file to"),
}


def describe_backup(result: dict[str, Any]) -> str:
    """The backup's closing line: file, size, duration, rotation, and whether it was sent."""
    text = _(
        "{file}, {size}, in {seconds} s; integrity checked.",
        file=result["file"],
        size=size_text(int(result["bytes"])),
        seconds=seconds_text(result["duration_s"]),
    )
    text += " " + ngettext(
        "{n} backup kept in {folder}", "{n} backups kept in {folder}", int(result["kept"]),
        folder=result["folder"],
    )  # fmt: skip
    removed = int(result.get("removed", 0))
    if removed:
        text += " " + ngettext("({n} older removed)", "({n} older removed)", removed)
    text += "."
    if result.get("sent"):
        text += "\n" + _("The file is above.")
    elif result.get("not_sent"):
        text += "\n" + _("Not sent: {reason}.", reason=_(NOT_SENT[result["not_sent"]]))
    return text
