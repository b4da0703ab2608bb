"""Who an ``@Display Name`` in a text names (internal notes, team rooms), pure."""

from __future__ import annotations


def mentioned(text: str, names: dict[str, str]) -> list[str]:
    """Ids whose ``@name`` appears in ``text`` as a whole name (case-insensitive)."""
    folded = text.casefold()
    found = []
    for user_id, name in names.items():
        needle = f"@{name}".casefold()
        at = folded.find(needle)
        while at >= 0:
            end = at + len(needle)
            if end == len(folded) or not folded[end].isalnum():
                found.append(user_id)
                break
            at = folded.find(needle, at + 1)
    return found
