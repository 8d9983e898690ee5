"""The report's chart: comments per day over the period and activity by hour of day.

matplotlib with the Agg backend (no display), drawn in DejaVu Sans, the font matplotlib ships,
which has Cyrillic glyphs. 1600x1000 px with large type, readable on a phone.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from core.i18n import _
from core.reports.summary import Summary
from core.reports.texts import title

SIZE_INCHES = (16, 10)
DPI = 100
LINES = 10  # communities drawn as lines in a report of all of them
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 15,
    "axes.titlesize": 19,
    "axes.labelsize": 15,
    "legend.fontsize": 12,
}


def render(summary: Summary) -> bytes:
    """The chart as PNG bytes. CPU-bound: call it from a thread."""
    with plt.rc_context(STYLE):
        figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        figure.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.07, hspace=0.35)
        days_axes, hours_axes = figure.subplots(2, 1, height_ratios=(3, 2))
        figure.suptitle(title(summary), fontsize=20)
        _per_day(days_axes, summary)
        _per_hour(hours_axes, summary)
        out = io.BytesIO()
        # Fast zlib: a flat chart compresses well anyway, and level 6 took a fifth of the time.
        figure.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def _series(summary: Summary) -> tuple[list[date], list[int]]:
    """Every day of the period with its count, zero where nothing was said."""
    days = [summary.first + timedelta(days=i) for i in range(summary.days)]
    return days, [summary.per_day.get(day, 0) for day in days]


def _per_day(ax: Axes, summary: Summary) -> None:
    """Bars for one community; for all, the busiest communities as lines."""
    ax.set_title(_("Comments per day"))
    if summary.sections:
        for section in summary.sections[:LINES]:
            days, counts = _series(section)
            ax.plot(
                days,  # type: ignore[arg-type]  # matplotlib plots dates; its stubs say numbers
                counts,
                marker="o",
                markersize=3,
                linewidth=2,
                label=section.name[:32],
            )
        # Beside the plot, so the lines stay visible.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        ax.figure.subplots_adjust(right=0.74)
        ax.set_ylim(bottom=0)
    else:
        days, counts = _series(summary)
        ax.bar(days, counts, color="#4a76a8", width=0.8)  # type: ignore[arg-type]
    ax.set_ylabel(_("comments"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d.%m"))  # type: ignore[no-untyped-call]
    ax.grid(axis="y", alpha=0.3)


def _per_hour(ax: Axes, summary: Summary) -> None:
    """When people comment: the period's comments by local hour of day."""
    ax.set_title(_("Comments by hour of day"))
    ax.bar(range(24), summary.hours, color="#e07b39")
    ax.set_xticks(range(24))
    ax.set_xlabel(_("hour"))
    ax.set_ylabel(_("comments"))
    ax.grid(axis="y", alpha=0.3)
