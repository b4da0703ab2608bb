"""The committer's statements run on the driver itself (sqlite_bulk.py, pg_bulk.py); their
errors are raised as SQLAlchemy's, so callers and the committer's retry rule see one set
of errors whichever path wrote: ``IntegrityError`` for a constraint, ``DatabaseError`` for
the rest, with the driver's exception as ``orig``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.exc import DatabaseError, IntegrityError


@contextlib.contextmanager
def as_sqlalchemy_errors(
    statement: str, *, integrity: type[Exception], database: type[Exception]
) -> Iterator[None]:
    """Run a driver call, raising its ``integrity`` and ``database`` errors as SQLAlchemy's."""
    try:
        yield
    except integrity as exc:
        raise IntegrityError(statement, None, exc) from exc
    except database as exc:
        raise DatabaseError(statement, None, exc) from exc
