"""Reading the ways people name a VK community: ids, club links, screen names, URLs."""

from __future__ import annotations

import re

from core.i18n import N_, _

# ASCII only: with Unicode case folding "ſ" matched "s" and "İ" matched "i", and \d took any
# script's digits; the whole text must match (fullmatch), so a trailing newline is refused.
_FLAGS = re.IGNORECASE | re.ASCII
_URL = re.compile(r"(?:https?://)?(?:m\.|www\.)?vk\.(?:com|ru)/(?P<path>[^?#]*)", _FLAGS)
_NUMERIC = re.compile(r"-?(?P<id>[0-9]{1,12})", _FLAGS)
_PREFIXED = re.compile(r"(?:club|public|event)(?P<id>[0-9]{1,12})", _FLAGS)
_SCREEN_NAME = re.compile(r"[a-z0-9_.]{2,64}", _FLAGS)

GROUP_HELP = N_(
    "a numeric id (12345, -12345), club12345/public12345, a screen name or a vk.com/... link"
)


def normalize_group(raw: str) -> str:
    """Return "123" for a numeric community or the lowercased screen name.

    Raises ValueError with a short, user-facing reason.
    """
    text = raw.strip()
    match = _URL.match(text)
    if match:
        text = match.group("path").strip("/").split("/")[0]
    if not text:
        raise ValueError(_("expected {what}", what=_(GROUP_HELP)))
    for pattern in (_NUMERIC, _PREFIXED):
        found = pattern.fullmatch(text)
        if found:
            group_id = int(found.group("id"))
            if group_id == 0:
                raise ValueError(_("a community id must not be 0"))
            return str(group_id)
    if _SCREEN_NAME.fullmatch(text) and not text.isdigit():
        return text.lower()
    shown = repr(raw.strip()[:40])  # escapes control characters; they may quadruple it
    shown = shown if len(shown) <= 42 else shown[:41] + "…"
    raise ValueError(
        _("{text} is not a VK community: expected {what}", text=shown, what=_(GROUP_HELP))
    )
