"""The stage clock: CPU and wall per lap, and the wall-clock timings derived from its laps."""

from __future__ import annotations

import time

import pytest

from cutouts.imaging.clock import NO_CLOCK, StageClock, running


def test_it_sums_wall_time_per_group_since_a_mark():
    clock = StageClock()
    clock.wall = {"decode": 1.0, "resize": 0.5}
    mark = clock.mark()
    clock.wall = {"decode": 1.0, "resize": 0.75, "inference": 2.0, "fuse": 0.25, "thin": 0.5}
    split = clock.wall_split(mark, {"inference": ("resize", "inference")}, rest="refinement")
    assert split == pytest.approx({"inference": 2.25, "refinement": 0.75})  # decode: before
    assert clock.wall_split(mark, {"model": ("inference",)}) == {"model": 2.0}


def test_it_charges_each_lap_to_its_stage_and_adds_repeats():
    clock = StageClock()
    time.sleep(0.01)
    clock.lap("a")
    clock.lap("b")
    time.sleep(0.01)
    clock.lap("a")
    assert list(clock.wall) == ["a", "b"]
    assert clock.wall["a"] >= 0.02 > clock.wall["b"]


def test_it_runs_a_fresh_clock_in_place_of_no_clock():
    own = StageClock()
    assert running(own) is own
    fresh = running(NO_CLOCK)
    assert isinstance(fresh, StageClock) and fresh is not NO_CLOCK
    fresh.lap("x")
    assert "x" in fresh.wall and NO_CLOCK.lap("x") is None
