"""The README documents every setting the code reads, so no knob is a secret of the source."""

from __future__ import annotations

from pathlib import Path

from api.settings import ApiSettings
from core.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    names = {name.upper() for cls in (Settings, ApiSettings) for name in cls.model_fields}
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert not missing, f"settings missing from README.md: {missing}"
