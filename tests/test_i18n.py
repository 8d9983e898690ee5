"""Every text a person reads has a Russian translation, and the language follows the user."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from core.i18n import _, language_of, use_locale
from core.ui import job_card

ROOT = Path(__file__).resolve().parents[1]


def translations_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["translations"] = module
    spec.loader.exec_module(module)
    return module


def test_every_text_in_the_code_is_translated() -> None:
    """Extract the marked texts from the source and find each translated in the catalog."""
    tool = translations_tool()
    template = tool.extract()
    assert len(template) > 0, "no marked texts found: the extraction keywords are wrong"
    missing = tool.untranslated(template, tool.read_catalog())
    assert not missing, (
        f"texts without a Russian translation (run scripts/translations.py): {missing}"
    )


def test_language_follows_telegram_code() -> None:
    assert language_of("ru", "en") == "ru"
    assert language_of("uk", "en") == language_of("be", "en") == language_of("kk", "en") == "ru"
    assert language_of("en-US", "ru") == "en"
    assert language_of("de", "ru") == "en"
    assert language_of(None, "ru") == "ru"


def test_texts_switch_language() -> None:
    with use_locale("ru"):
        card = job_card("Сбор комментариев", "abc", "в очереди")
        refresh = _("🔄 Refresh")
    assert card.splitlines()[1] == "Задача abc: в очереди"
    assert refresh == "🔄 Обновить"
    with use_locale("en"):
        assert job_card("Parse", "abc", "queued").splitlines()[1] == "Job abc: queued"
        assert _("🔄 Refresh") == "🔄 Refresh"
