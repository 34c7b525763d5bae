"""Refinement strengths a re-run offers: name -> setting overrides, and which one a version's
settings hold.

A module of its own, importing nothing of the project, because both sides need the table:
the re-run service applies it and the review selector reads a version's strength back from
it, and a selector importing services would close an import cycle (the `acyclic` contract).
"""

from __future__ import annotations

from typing import Final

STRENGTHS: Final[dict[str, dict]] = {
    # Refinement strength maps onto the edge shaping gain; "off" keeps the model's ramp.
    "off": {"refine": False},
    "soft": {"refine": True, "edge_gain": 2.0},
    "normal": {"refine": True, "edge_gain": 4.0},
    "strong": {"refine": True, "edge_gain": 8.0},
}


def strength_of(settings: dict | None) -> str:
    """The refinement strength name a version's settings were made with: the first of
    ``STRENGTHS`` whose overrides the settings hold, else "normal"."""
    settings = settings or {}
    for name, overrides in STRENGTHS.items():
        if all(settings.get(k) == v for k, v in overrides.items()):
            return name
    return "normal"
