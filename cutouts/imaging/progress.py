"""How far a long run is: ``on_progress(stage, fraction)`` callbacks of the pipeline and the
retouch, called at their stage boundaries (and every percent of the full-size tile loop).

The pure side only says where it is; the caller decides what to do with it (the worker writes
it to the cutout row the review card polls, throttled: ``cutouts.services.runs``). Fractions
only grow, from 0 at the first stage to 1 when the call returns; the stage is a short phrase a
reviewer reads beside the bar.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``on_progress(stage, fraction)``: ``stage`` a short phrase, ``fraction`` 0..1 of the call
OnProgress = Callable[[str, float], None]

READING = "Reading the photo"
READING_CUTOUT = "Reading the cutout"
FINDING = "Finding the product"
REFINING = "Refining edges"
COLOURS = "Cleaning edge colours"
CHECKING = "Checking the result"
STROKES = "Applying strokes"
UPLOAD = "Applying the upload"
SAVING = "Saving"


def no_progress(stage: str, fraction: float) -> None:
    """The default callback: nobody is watching."""


def span(on_progress: OnProgress, start: float, end: float) -> OnProgress:
    """``on_progress`` as one part of a longer run sees it: the part's 0..1 lands on
    ``start``..``end`` of the whole (the engine's pipeline, then its encode; a run's decode,
    compute and storage write)."""

    def report(stage: str, fraction: float) -> None:
        on_progress(stage, start + (end - start) * min(1.0, max(0.0, fraction)))

    return report
