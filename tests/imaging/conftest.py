"""Fixtures for the imaging engine tests (plain pytest, no Django database)."""

from __future__ import annotations

import pytest

from .scenes import ColourSegmenter


@pytest.fixture
def colour_segmenter():
    return ColourSegmenter()
