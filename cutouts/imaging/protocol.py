"""The scaffolding the solid-edge, graze, beside and detail protocols share: read a set, play
every image with each engine, summarise, print and write the report."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from .clicks import Progress, Refiner, run_engines

if TYPE_CHECKING:
    from _typeshed import SupportsWrite
    from typing_extensions import Unpack

    from .session import Segmenter


class RunOptions(TypedDict, total=False):
    """What every protocol runner takes besides its data and its own knobs (``run_protocol``):
    the model of the automatic cutouts, the engines (default: retouch), which images
    (``stems`` only, the first ``limit``), where the cutouts are kept, the JSON written, a
    progress printer and where the table goes (default: stdout)."""

    segmenter: Segmenter | None
    engines: tuple[str, ...]
    limit: int | None
    stems: set[str] | None
    cache_dir: str | Path | None
    out_json: str | Path | None
    progress: Progress | None
    stream: SupportsWrite[str] | None


def run_protocol(read: Callable[..., tuple[Sequence[tuple[Any, ...]], Callable[[str, np.ndarray],
                                                                              Any]]],
                 play: Callable[[np.ndarray, np.ndarray, np.ndarray, Any, Refiner],
                                dict[str, Any]],
                 summarise: Callable[[list[dict[str, Any]]], dict[str, Any]],
                 show: Callable[[dict[str, Any]], str], head: dict[str, Any], *,
                 load_average: bool = False, **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """One protocol run, the scaffolding the solid-edge, graze, beside and detail protocols
    share: ``read(stems=, limit=)`` gives the set's items (stem, image path, ...) and the loader
    of their truth, each engine plays every image (``run_engines``); the report is ``head``,
    the load average after the run (with ``load_average``) and per engine its ``summarise``d
    figures and its rows. ``show(report)`` is printed and the report written to ``out_json``."""
    stream = opts.get("stream") or sys.stdout
    items, load = read(stems=opts.get("stems"), limit=opts.get("limit"))
    engines = opts.get("engines", ("retouch",))
    rows = run_engines([(item[0], item[1]) for item in items], load=load, play=play,
                       segmenter=opts.get("segmenter"), engines=engines,
                       cache_dir=opts.get("cache_dir"), progress=opts.get("progress"))
    report = dict(head)
    if load_average:
        report["load_average"] = list(os.getloadavg())
    report["engines"] = {e: {"summary": summarise(rows[e]), "images": rows[e]} for e in engines}
    print(show(report), file=stream)
    out_json = opts.get("out_json")
    if out_json:
        Path(out_json).write_text(json.dumps(report, indent=1, default=float))
    return report
