"""How the results of the collection and analysis jobs read in a chat: each job's `describe`
in the catalog (the reports' and maintenance jobs' live beside their code)."""

from __future__ import annotations

from typing import Any

from core.i18n import N_, _, ngettext, seconds_text


def describe_watch(result: dict[str, Any]) -> str:
    """A watch's check: a parse's counters, or why it paused the watch or did nothing."""
    if "paused" in result:
        return _("The watch is paused: {reason}", reason=result["paused"])
    if "skipped" in result:
        return _("Nothing done: the watch is paused or was removed.")
    return describe_parse(result)


def describe_parse(result: dict[str, Any]) -> str:
    """The parse's counters, each with one meaning that adds up across runs (see `Totals`)."""
    group = result.get("group_name") or result.get("group_id") or ""
    new, edited = int(result.get("comments_new", 0)), int(result.get("comments_updated", 0))
    deleted = int(result.get("comments_deleted", 0))
    lines = [
        ", ".join(
            [
                ngettext("{n} new comment", "{n} new comments", new),
                ngettext("{n} edited", "{n} edited", edited),
                ngettext("{n} deleted on VK", "{n} deleted on VK", deleted),
            ]
        )
    ]
    if "comments_total" in result:
        total = int(result["comments_total"])
        lines.append(
            ngettext(
                "{n} comment of this community is stored in total.",
                "{n} comments of this community are stored in total.",
                total,
            )
        )
    lines.append(_posts_line(result))
    if not (new or edited or deleted):
        lines.append(_why_nothing_new(result))
    if result.get("stopped_reason"):
        lines.append(_("Stopped early: {reason}.", reason=result["stopped_reason"]))
    if result.get("analysis_job"):
        lines.append(
            _("The new comments are being analysed: job {job_id}.", job_id=result["analysis_job"])
        )
    return f"{group}\n" + "\n".join(lines) if group else "\n".join(lines)


def _posts_line(result: dict[str, Any]) -> str:
    read, unchanged = int(result.get("posts_scanned", 0)), int(result.get("posts_unchanged", 0))
    skipped = int(result.get("posts_skipped", 0))
    parts = [ngettext("{n} post read", "{n} posts read", read)]
    if unchanged:
        parts.append(
            ngettext(
                "{n} unchanged since the last parse",
                "{n} unchanged since the last parse",
                unchanged,
            )
        )
    if skipped:
        parts.append(
            ngettext(
                "{n} skipped (comments closed or private)",
                "{n} skipped (comments closed or private)",
                skipped,
            )
        )
    text = ", ".join(parts)
    if "duration_s" in result:
        text += _(", in {seconds} s", seconds=seconds_text(result["duration_s"]))
    return text + "."


def _why_nothing_new(result: dict[str, Any]) -> str:
    """The reason a parse brought nothing: an empty result always says why."""
    read, unchanged = int(result.get("posts_scanned", 0)), int(result.get("posts_unchanged", 0))
    days = result.get("days")
    if not read and not unchanged:
        if days:
            return ngettext(
                "Nothing new: the wall has no posts from the last {n} day.",
                "Nothing new: the wall has no posts from the last {n} days.",
                int(days),
            )
        return _("Nothing new: the wall has no posts.")
    if not read:
        return _("Nothing new: no post has new comments since the last parse.")
    return _("Nothing new: the posts read have no new comments.")


# Universal POS tags as a reader names them.
POS_NAMES: dict[str, str] = {
    "ADJ": N_("adjective"),
    "ADP": N_("preposition"),
    "ADV": N_("adverb"),
    "AUX": N_("auxiliary verb"),
    "CCONJ": N_("conjunction"),
    "DET": N_("determiner"),
    "INTJ": N_("interjection"),
    "NOUN": N_("noun"),
    "NUM": N_("numeral"),
    "PART": N_("particle"),
    "PRON": N_("pronoun"),
    "PROPN": N_("proper noun"),
    "PUNCT": N_("punctuation"),
    "SCONJ": N_("conjunction"),
    "SYM": N_("symbol"),
    "VERB": N_("verb"),
    "X": N_("other"),
}


def describe_tokens(result: dict[str, Any]) -> str:
    lines = [
        f"{form} → {lemma} ({_(POS_NAMES.get(pos, pos))})"
        for form, lemma, pos in result.get("tokens", [])
    ]
    return "\n" + "\n".join(lines) if lines else _("no words found")


def describe_keywords(result: dict[str, Any]) -> str:
    items = result.get("keywords", [])
    group = result.get("group_name") or result.get("group_id")
    comments = int(result.get("comments", 0))
    head = ngettext(
        "{group}: keywords of {n} comment", "{group}: keywords of {n} comments", comments,
        group=group,
    )  # fmt: skip
    if not items:
        if not comments:
            return head + ": " + _("none: the community has no comments with text in that period")
        return head + ": " + _("none yet: too few comments repeat the same words")
    head += ", " + _("the most typical of the community first")
    # The ranking's own measure, scaled so the first is 100: the number follows the order,
    # while mentions (how often) need not.
    top = max(float(items[0][1]), 1e-12)
    lines = [
        f"{i}. {term} — "
        + _("typicality {weight}", weight=max(0, round(100 * float(score) / top)))
        + ", "
        + ngettext("{n} mention", "{n} mentions", int(count))
        for i, (term, score, count) in enumerate(items, 1)
    ]
    return head + "\n" + "\n".join(lines)


def describe_batch(result: dict[str, Any]) -> str:
    analysed = int(result.get("comments_analyzed", 0))
    group = result.get("group_name") or result.get("group_id") or ""
    if "missing_ids" in result:
        text = _named_comments_text(result)
    elif not analysed and "analysed_before" in result:
        before = int(result["analysed_before"])
        text = ngettext(
            "nothing to analyse: its {n} comment was analysed already",
            "nothing to analyse: all {n} comments were analysed already",
            before,
        )
        if not before:
            text = _("nothing to analyse: no stored comments with text in that period")
    else:
        parts = int(result.get("chunks", 1))
        text = ngettext("{n} comment analysed", "{n} comments analysed", analysed)
        text += " " + ngettext("in {n} part", "in {n} parts", parts)
        text += ", " + _("{seconds} s", seconds=seconds_text(result.get("duration_s", 0)))
    return f"{group}: {text}" if group else text


# Ids a message lists at most (the job's result keeps them all).
SHOWN_IDS = 20


def _named_comments_text(result: dict[str, Any]) -> str:
    """An analysis of named comments: what was analysed, what had been, what is not stored."""
    analysed, before = int(result.get("comments_analyzed", 0)), int(result["analysed_before"])
    missing = [str(i) for i in result["missing_ids"]]
    parts = [ngettext("{n} named comment analysed", "{n} named comments analysed", analysed)]
    if before:
        parts.append(ngettext("{n} analysed already", "{n} analysed already", before))
    if missing:
        shown = ", ".join(missing[:SHOWN_IDS]) + (", …" if len(missing) > SHOWN_IDS else "")
        parts.append(
            ngettext(
                "{n} not stored for this community (not parsed yet or deleted on VK): {ids}",
                "{n} not stored for this community (not parsed yet or deleted on VK): {ids}",
                len(missing),
                ids=shown,
            )
        )
    return ", ".join(parts)


def describe_digest(result: dict[str, Any]) -> str:
    chats = int(result.get("chats", 0))
    if not chats:
        return _("made, but sent nowhere: set NOTIFY_CHAT_ID or send /digest on in a chat")
    return ngettext("sent to {n} chat", "sent to {n} chats", chats)


def describe_notification(result: dict[str, Any]) -> str:
    return _("sent") if result.get("sent") else _("already sent earlier")
