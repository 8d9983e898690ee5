"""Names for the fake wall's comment authors, as VK's `extended=1` answers give them.

A user's name follows from their id, so every test and the demo see the same people without
storing them.
"""

from __future__ import annotations

from typing import Any

FIRST_NAMES = (
    "Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Елена",
    "Павел", "Наталья", "Андрей", "Татьяна", "Михаил", "Юлия", "Николай", "Светлана",
)  # fmt: skip
LAST_NAMES = (
    "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
    "Морозов", "Волков", "Алексеев", "Фёдоров", "Михайлов", "Орлов", "Зайцев",
)  # fmt: skip


def full_name(user_id: int) -> tuple[str, str]:
    """First and last name of a fake user; the last name agrees with the first name's gender."""
    first = FIRST_NAMES[user_id % len(FIRST_NAMES)]
    last = LAST_NAMES[(user_id // len(FIRST_NAMES)) % len(LAST_NAMES)]
    if first.endswith("а") or first.endswith("я"):
        last += "а"
    return first, last


def profile(user_id: int) -> dict[str, Any]:
    """A user object as `profiles` of an extended answer holds it."""
    first, last = full_name(user_id)
    return {
        "id": user_id,
        "first_name": first,
        "last_name": last,
        "screen_name": f"id{user_id}",
        "can_access_closed": True,
        "is_closed": False,
    }
