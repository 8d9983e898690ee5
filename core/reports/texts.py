"""A report's summary and caption in words (through the translations)."""

from __future__ import annotations

from core.i18n import N_, _, ngettext
from core.reports.describe import comments_text, day_text
from core.reports.summary import Summary

WEEKDAYS = (
    N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"),
    N_("Friday"), N_("Saturday"), N_("Sunday"),
)  # fmt: skip
CAPTION_LIMIT = 1024
SNIPPET = 60


def title(summary: Summary) -> str:
    """Whose report, which days."""
    name = summary.name or _("All communities")
    days = ngettext("last {n} day", "last {n} days", summary.days)
    return f"{name}: {days} ({day_text(summary.first)} – {day_text(summary.last)})"


def caption(summary: Summary) -> str:
    """The chart's caption: the period and the total, always under Telegram's 1,024."""
    text = f"📊 {title(summary)}\n{comments_text(summary.comments)}"
    return text if len(text) < CAPTION_LIMIT else text[: CAPTION_LIMIT - 2] + "…"


def growth_text(summary: Summary) -> str:
    """Growth in words; a previous period without comments has no percentage to show."""
    growth = summary.growth
    if growth is None:
        return ngettext(
            "nothing in the previous {n} day", "nothing in the previous {n} days", summary.days
        )
    return ngettext(
        "{sign}{growth:.1f}% against the previous {n} day ({previous})",
        "{sign}{growth:.1f}% against the previous {n} days ({previous})",
        summary.days,
        sign="+" if growth >= 0 else "",
        growth=growth,
        previous=summary.previous,
    )


def figures(summary: Summary) -> list[str]:
    """Totals, growth, authors and the busiest times: the lines every summary has."""
    lines = [
        _(
            "Comments: {comments} ({growth})",
            comments=summary.comments,
            growth=growth_text(summary),
        ),
        _(
            "Authors: {authors}; replies: {replies}; likes: {likes}",
            authors=summary.authors,
            replies=summary.replies,
            likes=summary.likes,
        ),
    ]
    hour, weekday = summary.busiest_hour, summary.busiest_weekday
    if hour is not None and weekday is not None:
        lines.append(
            _(
                "Busiest hour: {start:02d}:00–{end:02d}:00; busiest weekday: {weekday}",
                start=hour,
                end=(hour + 1) % 24,
                weekday=_(WEEKDAYS[weekday]),
            )
        )
    return lines


def top_lists(summary: Summary, *, keywords: bool) -> list[str]:
    """Top posts, authors and (for a report's totals, not a section) keywords, as numbered
    lines."""
    lines: list[str] = []
    if summary.top_posts:
        lines.append(_("Top posts by comments:"))
        for number, post in enumerate(summary.top_posts, 1):
            snippet = " ".join(post.text.split())
            snippet = snippet if len(snippet) <= SNIPPET else snippet[: SNIPPET - 1] + "…"
            line = f"{number}. {post.link} — {comments_text(post.comments)}"
            lines.append(f"{line} — «{snippet}»" if snippet else line)
    if summary.top_authors:
        lines.append(_("Top authors:"))
        lines += [
            f"{number}. {author.label} — {comments_text(author.comments)}"
            for number, author in enumerate(summary.top_authors, 1)
        ]
    if summary.keywords:
        lines.append(
            ngettext(
                "Top keywords of {n} analysed comment (how many mention each):",
                "Top keywords of {n} analysed comments (how many mention each):",
                summary.analyzed,
            )
        )
        lines += [
            f"{number}. {term} ({count})"
            for number, (term, count) in enumerate(summary.keywords, 1)
        ]
        # /keywords counts back from this moment, the report by whole local days.
        lines.append(
            _(
                "Counted by whole days from {first}; /keywords counts back from now,"
                " so its numbers for the same days may differ slightly.",
                first=day_text(summary.first),
            )
        )
    elif keywords:
        lines.append(_("Keywords: none yet (no analysed comments in the period)."))
    return lines


def summary_text(summary: Summary) -> str:
    """The whole text summary; a report of all communities has one section each."""
    lines = [f"📊 {title(summary)}", *figures(summary)]
    if summary.owner_id is not None:
        return "\n".join([*lines, "", *top_lists(summary, keywords=True)])
    lines.append(
        ngettext(
            "{n} community had comments.", "{n} communities had comments.", len(summary.sections)
        )
    )
    lines += ["", *top_lists(summary, keywords=True)]
    for section in summary.sections:
        lines += ["", f"— {section.name} —", *figures(section), *top_lists(section, keywords=False)]
    return "\n".join(lines)
