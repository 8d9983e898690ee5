"""How the results of the report and statistics jobs read (closing message, /result).

Results are plain JSON (arq and the audit table store them), so these read dicts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.i18n import _, ngettext


def day_text(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _day(iso: str) -> str:
    return day_text(date.fromisoformat(iso))


def comments_text(n: int) -> str:
    return ngettext("{n} comment", "{n} comments", n)


def describe_report(result: dict[str, Any]) -> str:
    """The report's closing line: what was sent, or why nothing was."""
    name = result.get("name") or _("all communities")
    days = int(result.get("days", 0))
    if result.get("empty"):
        text = ngettext(
            "Nothing stored for {name} in the last {n} day.",
            "Nothing stored for {name} in the last {n} days.",
            days,
            name=name,
        )
        hint = _("Collect comments first: /parse {group}", group=result.get("group") or "<group>")
        return f"{text}\n{hint}"
    text = _(
        "Report for {name}, {first} – {last}: {comments}.",
        name=name,
        first=_day(result["first"]),
        last=_day(result["last"]),
        comments=comments_text(int(result.get("comments", 0))),
    )
    if result.get("delivered"):
        text += "\n" + _("Above: the chart, the summary and the comments as CSV and Excel files.")
    return text


def describe_update(result: dict[str, Any]) -> str:
    """What a statistics recount did, for /result and the audit."""
    days, communities = int(result.get("days", 0)), int(result.get("communities", 0))
    return _(
        "{days} recounted in {communities}",
        days=ngettext("{n} day", "{n} days", days),
        communities=ngettext("{n} community", "{n} communities", communities),
    )


def _parsed(iso: str | None) -> str:
    if not iso:
        return _("never parsed")
    return _("last parse {when}", when=datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M"))


def _busiest(days: list[list[Any]]) -> str:
    listed = ", ".join(f"{_day(day)} ({count})" for day, count in days)
    return _("Busiest days: {days}", days=listed)


def describe_stats(result: dict[str, Any]) -> str:
    """The /stats answer: all communities, or one with its last 7 and 30 days."""
    if "community" in result:
        one = result["community"]
        lines = [
            f"📈 {one['name']}",
            _(
                "Stored: {comments}, {authors}, {replies}, {likes}",
                comments=comments_text(one["comments"]),
                authors=ngettext("{n} author", "{n} authors", one["authors"]),
                replies=ngettext("{n} reply", "{n} replies", one["replies"]),
                likes=ngettext("{n} like", "{n} likes", one["likes"]),
            ),
        ]
        for days, comments, authors in one["windows"]:
            lines.append(
                ngettext(
                    "Last {n} day: {comments}, {authors}",
                    "Last {n} days: {comments}, {authors}",
                    days,
                    comments=comments_text(comments),
                    authors=ngettext("{n} author", "{n} authors", authors),
                )
            )
        lines.append(_parsed(one["last_parsed_at"]).capitalize())
        if one["busiest"]:
            lines.append(_busiest(one["busiest"]))
        return "\n".join(lines)
    communities = result.get("communities", [])
    if not communities:
        return _("No comments stored yet. Collect some: /parse <group>")
    lines = [
        _(
            "📈 {communities} tracked, {comments} stored",
            communities=ngettext("{n} community", "{n} communities", len(communities)),
            comments=comments_text(int(result.get("comments", 0))),
        )
    ]
    if result.get("busiest"):
        lines.append(_busiest(result["busiest"]))
    lines += [
        f"• {name}: {comments_text(comments)}, {_parsed(parsed)}"
        for name, comments, parsed in communities
    ]
    lines.append(_("Details of one: /stats <group>; a report: /report <group> [days]"))
    return "\n".join(lines)
