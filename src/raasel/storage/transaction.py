"""What the layers above storage may name of a transaction (STYLE.md: actions import no
SQLAlchemy types). ``Tx`` is the open transaction a unit or a read gets; it is passed
through to the metadata queries, never used for SQL above this layer."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

Tx = AsyncConnection

#: Raised when a write breaks a unique key (e.g. an idempotent open raced by another node).
UniqueViolation = IntegrityError

__all__ = ["Tx", "UniqueViolation"]
