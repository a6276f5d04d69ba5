"""Password policy and lockout rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridcity.domain.errors import InvalidInput
from gridcity.domain.passwords import LockoutPolicy, PasswordPolicy

POLICY = PasswordPolicy(min_length=10)


@pytest.mark.parametrize("password", ["Grid#City2026", "长城Great#Wall1", "abcdEFGH1234"])
def test_strong_passwords_pass(password: str) -> None:
    POLICY.check(password, username="zhangsan")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab#1", "password_too_short"),
        ("abcdefghijkl", "password_too_simple"),
        ("abcdefgh1234", "password_too_simple"),
        ("Zhangsan#2026", "password_contains_username"),
        ("x" * 300 + "A1#", "password_too_long"),
    ],
)
def test_weak_passwords_are_refused_with_the_broken_rule(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        POLICY.check(password, username="zhangsan")
    assert refused.value.code == reason


def test_the_fifth_failure_locks_for_the_configured_minutes() -> None:
    policy = LockoutPolicy(threshold=5, minutes=15)
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    failures, locked = 0, None
    for _ in range(4):
        failures, locked = policy.after_failure(failures, now)
        assert locked is None
    failures, locked = policy.after_failure(failures, now)
    assert locked == now + timedelta(minutes=15)
    assert policy.is_locked(locked, now + timedelta(minutes=14))
    assert not policy.is_locked(locked, now + timedelta(minutes=15))


@pytest.mark.parametrize("password", ["Password123!", "Admin@123456", "1Qaz2Wsx!@#$"])
def test_well_known_passwords_dressed_up_with_symbols_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        POLICY.check(password, username="zhangsan")
    assert refused.value.code == "password_common"
