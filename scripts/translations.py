"""Bring the translation catalogs up to date with the texts in the code.

    .venv/bin/python scripts/translations.py          # add new texts, drop unused ones
    .venv/bin/python scripts/translations.py --check  # list texts without a translation; exit 1

New texts arrive with an empty translation: fill `msgstr` (and every `msgstr[i]` of a plural:
Russian has three forms, for 1, 2-4 and 5+) in `core/locales/ru/LC_MESSAGES/messages.po`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("core", "bot", "worker", "api", "fakevk")
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
CATALOG = ROOT / "core" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every text the code marks for translation, with where it stands."""
    catalog = Catalog(project="vkcomments", charset="utf-8")
    for package in SOURCES:
        folder = ROOT / package
        if not folder.is_dir():
            continue
        found = extract_from_dir(
            folder, method_map=[("**.py", "python")], keywords=KEYWORDS, strip_comment_tags=True
        )
        for filename, lineno, message, comments, context in found:
            where = (f"{package}/{filename}", lineno)
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def read_catalog(path: Path = CATALOG) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale="ru")


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """Texts of the code that the catalog lacks, leaves empty, or marks fuzzy."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        values = strings if isinstance(strings, (list, tuple)) else [strings]
        plural_ok = not isinstance(message.id, (list, tuple)) or len(values) == catalog.num_plurals
        if found is None or found.fuzzy or not all(values) or not plural_ok:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update() -> None:
    template = extract()
    catalog = read_catalog() if CATALOG.exists() else Catalog(locale="ru")
    created = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    # Sorted, without line numbers or a fresh date: branches that add texts merge cleanly.
    catalog.creation_date = catalog.revision_date = created
    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    with CATALOG.open("wb") as target:
        write_po(target, catalog, width=100, no_location=True, sort_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only list missing translations")
    options = parser.parse_args()
    if not options.check:
        update()
    missing = untranslated(extract(), read_catalog())
    for text in missing:
        print(f"untranslated: {text!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
