"""Shared API schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from pydantic import BaseModel

from gridcity.services.pagination import Page

T = TypeVar("T")


class ErrorOut(BaseModel):
    """Every error: a stable machine code and a human message."""

    code: str
    message: str


class PageOut(BaseModel, Generic[T]):
    """One page of results."""

    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


def page_out(page: Page[T], convert: Callable[[T], BaseModel]) -> dict[str, object]:
    """Serialise a service page with a per-item converter."""
    return {
        "items": [convert(i) for i in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "Not signed in"},
    403: {"model": ErrorOut, "description": "Role not allowed"},
    404: {"model": ErrorOut, "description": "Not found or outside your data scope"},
    409: {"model": ErrorOut, "description": "Conflicts with existing data"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}
