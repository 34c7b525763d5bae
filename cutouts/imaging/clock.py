"""Per-stage CPU and wall time of one cutout, by laps: the engine's one timing mechanism.

The pipeline calls ``clock.lap(stage)`` after each stage; each lap charges the time since the
previous lap (or ``reset``) to that stage, so stages inside a tile loop add up. The same laps
give the ``profile`` command its CPU per stage and every caller its wall-clock ``timings``
(model passes, refinement, encode; see ``wall_split``), so there is no second set of timers to
keep in step with the stages. A lap costs two clock reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

#: the laps of the model passes (squash to the model input, then the model): a cutout's
#: ``timings["inference"]``; every other pipeline lap is ``timings["refinement"]``
INFERENCE_STAGES = ("resize", "inference")


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

    def mark(self) -> dict[str, float]:
        """The wall seconds so far, to measure laps after this point (``wall_split``)."""
        return dict(self.wall)

    def wall_split(self, mark: dict[str, float], groups: dict[str, Iterable[str]],
                   rest: str | None = None) -> dict[str, float]:
        """Wall seconds since ``mark`` summed per group of stages ({name: stages}); with
        ``rest``, every other stage timed since then is summed under that name."""
        since = {k: v - mark.get(k, 0.0) for k, v in self.wall.items()}
        out = {name: sum(since.get(s, 0.0) for s in stages) for name, stages in groups.items()}
        if rest is not None:
            grouped = {s for stages in groups.values() for s in stages}
            out[rest] = sum(v for k, v in since.items() if k not in grouped)
        return out


class _NoClock(StageClock):
    def __init__(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def lap(self, stage: str) -> None:
        pass


#: the default of callers that want no laps (``predict_square`` outside a cutout)
NO_CLOCK: StageClock = _NoClock()


def running(clock: StageClock) -> StageClock:
    """``clock``, or a fresh one in place of ``NO_CLOCK``: a cutout's ``timings`` come from
    its laps even when nobody asked for them."""
    return StageClock() if isinstance(clock, _NoClock) else clock
