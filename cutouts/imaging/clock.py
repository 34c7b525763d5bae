"""Per-stage CPU and wall time of one cutout, by laps (used by ``profile`` and the benchmarks).

The pipeline calls ``clock.lap(stage)`` after each stage; each lap charges the time since the
previous lap (or ``reset``) to that stage, so stages inside a tile loop add up. The default
clock does nothing, so the production path pays one method call per stage.
"""

from __future__ import annotations

import time


class StageClock:
    """CPU seconds (``time.process_time``: every thread of this process) and wall seconds per
    stage, in the order the stages first ran."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        """Start the next lap now (time since the last lap is charged to no stage)."""
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def lap(self, stage: str) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu - self._cpu
        self.wall[stage] = self.wall.get(stage, 0.0) + wall - self._wall
        self._cpu, self._wall = cpu, wall


class _NoClock(StageClock):
    def __init__(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def lap(self, stage: str) -> None:
        pass


NO_CLOCK: StageClock = _NoClock()
