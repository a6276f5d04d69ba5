"""Periodic jobs. Safe with several processes: a job is claimed by a conditional UPDATE,
so only one process runs it per interval, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import structlog

from gridcity.adapters.db.tables import JobRun
from gridcity.domain.errors import Conflict
from gridcity.services import auth
from gridcity.services.deps import ServiceDeps

log = structlog.get_logger("gridcity.jobs")


@dataclass(frozen=True)
class Job:
    """A named function run every ``every``."""

    name: str
    every: timedelta
    run: Callable[[ServiceDeps], object]


JOBS: tuple[Job, ...] = (Job("purge_expired_sessions", timedelta(hours=1), auth.purge_expired),)


def _claim(deps: ServiceDeps, job: Job) -> bool:
    now = deps.clock()
    with suppress(Conflict):  # another process created the row at the same moment: fine
        _ensure_row(deps, job.name)
    with deps.db.transaction() as session:
        claimed = session.execute(
            sa.update(JobRun)
            .where(
                JobRun.name == job.name,
                sa.or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= now - job.every),
            )
            .values(last_started_at=now)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _ensure_row(deps: ServiceDeps, name: str) -> None:
    with deps.db.transaction() as session:
        if session.get(JobRun, name) is None:
            session.add(JobRun(name=name, last_result=""))


def run_due(deps: ServiceDeps, jobs: tuple[Job, ...] = JOBS) -> list[str]:
    """Run every job whose interval has passed; returns the names that ran."""
    ran: list[str] = []
    for job in jobs:
        try:
            if not _claim(deps, job):
                continue
            result = job.run(deps)
            status = f"ok: {result}"
        except Exception as exc:
            log.exception("job failed", job=job.name)
            status = f"failed: {exc}"[:300]
        with deps.db.transaction() as session:
            row = session.get(JobRun, job.name)
            if row is not None:
                row.last_finished_at = deps.clock()
                row.last_result = status[:300]
        ran.append(job.name)
    return ran


class JobThread(threading.Thread):
    """Runs due jobs every ``period`` seconds inside the web process (embedded default)."""

    def __init__(self, deps: ServiceDeps, period: float = 60.0) -> None:
        super().__init__(name="gridcity-jobs", daemon=True)
        self.deps = deps
        self.period = period
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                run_due(self.deps)
            except Exception:
                log.exception("job loop error")
            self.stopped.wait(self.period)

    def stop(self) -> None:
        """Ask the loop to end."""
        self.stopped.set()
