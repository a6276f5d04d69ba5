"""Password policy (checked on every new password) and login lockout rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridcity.domain.errors import InvalidInput

_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "admin12345",
        "iloveyou",
        "1q2w3e4r5t",
        "abc123456",
        "woaini1314",
        "woaini520",
        "admin123",
        "admin123456",
        "admin888",
        "qwerty123",
        "1qaz2wsx",
        "qq123456",
        "abc123",
    }
)


@dataclass(frozen=True)
class PasswordPolicy:
    """Minimum length and character classes; a city may raise the length in settings."""

    min_length: int = 10
    min_classes: int = 3

    def check(self, password: str, *, username: str = "") -> None:
        """Refuse a password that breaks the policy, naming the first broken rule."""
        if len(password) < self.min_length:
            raise InvalidInput(
                "password_too_short",
                "The password needs at least %(n)s characters",
                n=self.min_length,
            )
        if len(password) > 256:
            raise InvalidInput("password_too_long", "The password may have at most 256 characters")
        # "Password123!" is as weak as "password123": compare letters and digits only.
        if "".join(c for c in password.lower() if c.isalnum()) in _COMMON:
            raise InvalidInput("password_common", "The password is too common")
        classes = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )
        if classes < self.min_classes:
            raise InvalidInput(
                "password_too_simple",
                "The password needs %(n)s of: lower case, upper case, digits, symbols",
                n=self.min_classes,
            )
        lowered = password.lower()
        if username and username.lower() in lowered:
            raise InvalidInput(
                "password_contains_username", "The password must not contain the username"
            )


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``threshold`` consecutive failures the account is locked for ``minutes``."""

    threshold: int = 5
    minutes: int = 15

    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool:
        """True while a lock is in force."""
        return locked_until is not None and locked_until > now

    def after_failure(self, failures: int, now: datetime) -> tuple[int, datetime | None]:
        """New failure count and lock expiry after one more wrong password."""
        failures += 1
        if failures >= self.threshold:
            return failures, now + timedelta(minutes=self.minutes)
        return failures, None
