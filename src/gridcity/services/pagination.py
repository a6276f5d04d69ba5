"""Pages of query results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items with the total count."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def paginate(
    session: Session,
    query: sa.Select[Any],
    *,
    page: int,
    per_page: int,
    convert: Callable[[Any], T],
) -> Page[T]:
    """Run ``query`` for one page; ``page`` starts at 1 and is clamped to a sane range."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=[convert(r) for r in rows], total=total or 0, page=page, per_page=per_page)
