"""Russian and English for every text a person reads.

Texts are written in English in the code and translated through gettext catalogs
(`core/locales/<lang>/LC_MESSAGES/messages.po`), read with Babel and served by aiogram's own
`I18n`. The catalogs are compiled in memory at start, so a checkout needs no build step.

- `_("text {name}", name=...)`: translate into the current language, then fill the fields;
- `ngettext("{n} comment", "{n} comments", n)`: the plural form for n (three in Russian);
- `N_("text")`: mark a text for the catalog where it is defined (catalog titles, menus) and
  translate it with `_()` where it is shown.

The current language lives in a context variable: the bot's middleware sets it per update; the
worker uses `use_locale(...)` with the language stored on the job. `scripts/translations.py`
brings the catalogs up to date with the code; a test fails on any text without a translation.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("ru", "en")
SOURCE_LANGUAGE = "en"
# Telegram's language_code values whose speakers get Russian rather than English.
RUSSIAN_READERS = frozenset({"ru", "uk", "be", "kk"})


class CatalogI18n(I18n):
    """aiogram's I18n reading `.po` catalogs directly (compiled in memory, not from `.mo`)."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            locale = po_path.parent.parent.name
            with po_path.open("rb") as source:
                catalog = read_po(source, locale=locale)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            translations[locale] = gettext.GNUTranslations(compiled)
        return translations


I18N = CatalogI18n(path=LOCALES_DIR, default_locale=SOURCE_LANGUAGE)


def _(text: str, /, **values: Any) -> str:
    """`text` in the current language, with `{fields}` filled from `values`."""
    translated = I18N.gettext(text)
    return translated.format(**values) if values else translated


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The form for `n` in the current language; `{n}` and `{fields}` are filled."""
    return I18N.gettext(singular, plural, n).format(n=n, **values)


def N_(text: str, /) -> str:
    """Mark `text` for the catalog without translating it now (it is shown through `_()`)."""
    return text


def current_language() -> str:
    return I18N.current_locale


def set_language(language: str) -> None:
    """Texts made from here on in this task (and tasks it starts) are in `language`.

    For a whole update or job: unlike `use_locale`, the choice is still there when the error
    handler or the end-of-job hook runs later in the same task.
    """
    I18N.current_locale = language if language in LANGUAGES else SOURCE_LANGUAGE


@contextmanager
def use_locale(language: str) -> Iterator[None]:
    """Texts made inside the block are in `language` ("ru" or "en")."""
    with I18N.use_locale(language if language in LANGUAGES else SOURCE_LANGUAGE):
        yield


def seconds_text(value: object) -> str:
    """A duration to a tenth of a second, as the reader writes decimals ("1,5" in Russian)."""
    return format_decimal(round(float(str(value)), 1), locale=current_language())


def language_of(telegram_code: str | None, default: str) -> str:
    """The language for a Telegram user's `language_code` (None: the configured default)."""
    if not telegram_code:
        return default
    return "ru" if telegram_code.split("-")[0].lower() in RUSSIAN_READERS else "en"
