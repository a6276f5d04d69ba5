"""The component map index, built in the background when the web app starts (decision 0011).

Without it the first map request of a process reads and sorts every component (seconds at
1,000,000). The warm-up runs the same ``component_map.component_index`` as a request, under the
same lock, so a request that comes while it builds waits for that build instead of starting a
second one. A warm-up that fails (a database not migrated yet, unreachable) logs a warning and
leaves the first request to build the index as before.
"""

from __future__ import annotations

import threading
import time

import structlog

from gridcity.config import Settings
from gridcity.services import component_map
from gridcity.services.deps import ServiceDeps
from gridcity.web.ui.map_page import needs_gcj02_shift

log = structlog.get_logger("gridcity.warmup")


def map_crs(settings: Settings) -> str:
    """The display coordinate system the map page asks for (so the index it needs is built)."""
    return "gcj02" if needs_gcj02_shift(settings) else "wgs84"


class ComponentIndexWarmup(threading.Thread):
    """Builds this process's component map index once, in a daemon thread.

    ``stop()`` only asks: the build stops at its next chunk of rows, and the thread being a
    daemon never holds up the end of the process. ``outcome`` is ``pending`` until the thread
    ends, then ``ready``, ``failed`` or ``cancelled``."""

    def __init__(self, deps: ServiceDeps, crs: str) -> None:
        super().__init__(name="gridcity-component-index", daemon=True)
        self.deps = deps
        self.crs = crs
        self.cancelled = threading.Event()
        self.outcome = "pending"
        self.seconds: float | None = None  # from the start of the thread to a ready index

    def run(self) -> None:
        started = time.perf_counter()
        try:
            index = component_map.component_index(
                self.deps, self.crs, cancelled=self.cancelled.is_set
            )
        except component_map.BuildCancelled:
            self.outcome = "cancelled"
            log.info("component index warm-up cancelled", crs=self.crs)
            return
        except Exception as exc:  # any failure leaves the lazy build of the first request
            if self.cancelled.is_set():  # e.g. the database closed under a stopping process
                self.outcome = "cancelled"
                log.info("component index warm-up cancelled", crs=self.crs, error=str(exc))
                return
            self.outcome = "failed"
            log.warning(
                "component index warm-up failed; the first map request will build it",
                crs=self.crs,
                error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            )
            return
        self.seconds = time.perf_counter() - started
        self.outcome = "ready"
        log.info(
            "component index ready",
            crs=self.crs,
            components=len(index),
            seq=index.seq,
            seconds=round(self.seconds, 3),
        )

    def stop(self) -> None:
        """Ask a build in progress to stop; returns at once."""
        self.cancelled.set()
