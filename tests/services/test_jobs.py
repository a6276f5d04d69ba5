"""Periodic jobs: claimed once per interval however many processes run them; one failure is contained."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from gridcity.bootstrap import Container
from gridcity.jobs import Job, run_due
from gridcity.services import auth
from tests.factories import PASSWORD, TEST_INFO, SmallCity

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _at(container: Container, when: datetime):
    return dataclasses.replace(container.deps, clock=lambda: when)


def test_a_job_runs_once_per_interval_even_when_two_processes_ask(container: Container) -> None:
    calls: list[str] = []
    job = Job("count", timedelta(minutes=10), lambda deps: calls.append("ran"))
    first, second = _at(container, NOW), _at(container, NOW + timedelta(seconds=5))
    assert run_due(first, (job,)) == ["count"]
    assert run_due(second, (job,)) == []
    assert run_due(_at(container, NOW + timedelta(minutes=10)), (job,)) == ["count"]
    assert calls == ["ran", "ran"]


def test_a_failing_job_does_not_stop_the_others(container: Container) -> None:
    def boom(_deps):
        raise RuntimeError("disk full")

    ran: list[str] = []
    jobs = (
        Job("broken", timedelta(minutes=1), boom),
        Job("fine", timedelta(minutes=1), lambda deps: ran.append("fine")),
    )
    assert run_due(_at(container, NOW), jobs) == ["broken", "fine"]
    assert ran == ["fine"]


def test_the_purge_job_removes_expired_sessions(container: Container, city: SmallCity) -> None:
    deps = _at(container, NOW)
    token = auth.login(deps, "leader", PASSWORD, info=TEST_INFO).token
    later = _at(container, NOW + timedelta(days=2))
    assert auth.purge_expired(later) == 1
    assert auth.actor_for_session(deps, token) is None
