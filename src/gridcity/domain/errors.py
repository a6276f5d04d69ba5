"""Typed refusals that every layer above can show to a person."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused an action; ``code`` is stable for machines, ``message`` is an English msgid."""

    status = 400

    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params


class InvalidInput(DomainError):
    """The input breaks a rule (format, range, hierarchy)."""

    status = 422


class NotFound(DomainError):
    """The thing asked for does not exist, or is outside the actor's data scope."""

    status = 404


class Forbidden(DomainError):
    """The actor's roles do not allow the action (deny by default)."""

    status = 403


class Unauthenticated(DomainError):
    """No valid login, session or token."""

    status = 401


class Conflict(DomainError):
    """The action clashes with existing data (duplicate code, stale version)."""

    status = 409
