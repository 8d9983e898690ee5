"""A period's comments as CSV (UTF-8 with BOM) and XLSX, streamed from the database in chunks
so a million-row export never holds its rows in memory; files over Telegram's upload limit
are zipped, and split when even the zip is too big."""

from __future__ import annotations

import asyncio
import csv
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import xlsxwriter
from sqlalchemy import and_, select

from core.analysis import decode_terms
from core.i18n import N_, _
from core.models import Author, Comment
from core.reports.statistics import readable
from core.storage import Sessions

CHUNK = 5000
XLSX_ROWS_PER_SHEET = 1_000_000  # Excel's sheet ends at 1,048,576 rows
COLUMNS = (
    N_("date"), N_("community id"), N_("post"), N_("comment id"), N_("reply to"),
    N_("author id"), N_("author"), N_("likes"), N_("text"), N_("lemmas"),
)  # fmt: skip
TEXT_COLUMNS = {0, 2, 6, 8, 9}  # written as text in XLSX, never read as a formula or number


@dataclass
class Exported:
    csv: Path
    xlsx: Path
    rows: int = 0


@dataclass
class Upload:
    """What to send for one file: the file itself, its zip, or the zip's parts."""

    paths: list[Path] = field(default_factory=list)
    zipped: bool = False

    @property
    def split(self) -> bool:
        return len(self.paths) > 1


def _row(values: Any, zone: tzinfo) -> list[Any]:
    """One comment as a spreadsheet row: local time, links and names people can read."""
    owner, post, comment, parent, author, moment, likes, text, terms, name = values
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    lemmas = " ".join(term for term in decode_terms(terms) if term) if terms else ""
    return [
        moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        -owner,
        f"https://vk.com/wall{owner}_{post}",
        comment,
        parent if parent is not None else "",
        author,
        name or "",
        likes if likes is not None else "",
        text,
        lemmas,
    ]


class _Writers:
    """The CSV and the XLSX file, written row by row (the XLSX in constant-memory mode)."""

    def __init__(self, target: Exported) -> None:
        self.csv_file: TextIO = target.csv.open("w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.csv_file)
        self.book = xlsxwriter.Workbook(str(target.xlsx), {"constant_memory": True})
        self.header = [_(name) for name in COLUMNS]
        self.csv.writerow(self.header)
        self.sheet: Any = None
        self.sheet_row = XLSX_ROWS_PER_SHEET

    def write(self, rows: list[list[Any]]) -> None:
        """Append rows to both files; a new sheet starts where Excel's would end."""
        self.csv.writerows(rows)
        for row in rows:
            if self.sheet_row >= XLSX_ROWS_PER_SHEET:
                self.sheet = self.book.add_worksheet()
                self.sheet.write_row(0, 0, self.header)
                self.sheet_row = 0
            self.sheet_row += 1
            for column, value in enumerate(row):
                if column in TEXT_COLUMNS:
                    self.sheet.write_string(self.sheet_row, column, str(value))
                elif value != "":
                    self.sheet.write_number(self.sheet_row, column, value)

    def close(self) -> None:
        """Finish both files (an empty period still gets a header row)."""
        if self.sheet is None:
            self.sheet = self.book.add_worksheet()
            self.sheet.write_row(0, 0, self.header)
        self.book.close()
        self.csv_file.close()


async def export(
    sessions: Sessions,
    owner_id: int | None,
    first: date,
    last: date,
    zone: tzinfo,
    target: Exported,
) -> Exported:
    """Write every readable comment of the period, oldest first per community."""
    where = and_(Comment.local_day >= first, Comment.local_day <= last, readable())
    if owner_id is not None:
        where = and_(Comment.owner_id == owner_id, where)
    query = (
        select(
            Comment.owner_id,
            Comment.post_id,
            Comment.comment_id,
            Comment.parent_id,
            Comment.from_id,
            Comment.date,
            Comment.likes,
            Comment.text,
            Comment.terms,
            Author.name,
        )
        .outerjoin(Author, Author.id == Comment.from_id)
        .where(where)
        .order_by(Comment.owner_id, Comment.date, Comment.post_id, Comment.comment_id)
        .execution_options(yield_per=CHUNK)
    )
    writers = await asyncio.to_thread(_Writers, target)
    try:
        async with sessions() as session:
            result = await session.stream(query)
            async for chunk in result.partitions(CHUNK):
                rows = [_row(values, zone) for values in chunk]
                # Spreadsheet writing is CPU work: a thread keeps the event loop responsive.
                await asyncio.to_thread(writers.write, rows)
                target.rows += len(rows)
    finally:
        await asyncio.to_thread(writers.close)
    return target


def prepare_upload(path: Path, limit: int) -> Upload:
    """The file as it can be uploaded: itself if small enough, else zipped, else the zip cut
    into numbered parts (`name.zip.001`, ...) that 7-Zip or `cat` joins again."""
    if path.stat().st_size <= limit:
        return Upload([path])
    archive = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(path, arcname=path.name)
    if archive.stat().st_size <= limit:
        return Upload([archive], zipped=True)
    parts: list[Path] = []
    size = archive.stat().st_size
    with archive.open("rb") as source:
        while source.tell() < size:
            part = archive.with_name(f"{archive.name}.{len(parts) + 1:03d}")
            with part.open("wb") as out:
                _copy(source, out, limit)
            parts.append(part)
    archive.unlink()
    return Upload(parts, zipped=True)


def _copy(source: BinaryIO, out: BinaryIO, count: int) -> None:
    """Copy `count` bytes (or up to the end) a megabyte at a time."""
    while count > 0 and (block := source.read(min(count, 1 << 20))):
        out.write(block)
        count -= len(block)


def export_names(label: str, first: date, last: date) -> tuple[str, str]:
    """File names that say whose comments and which days, for the chat's file list."""
    stem = f"comments_{label}_{first:%Y%m%d}-{last:%Y%m%d}"
    return f"{stem}.csv", f"{stem}.xlsx"
