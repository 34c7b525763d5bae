"""Fixtures for the imaging engine tests (plain pytest, no Django database)."""

from __future__ import annotations

import os

import pytest

from .scenes import ColourSegmenter

# retouch._shared_detail checks, in the engine's tests, that one key never meets two start
# alphas (the app's tests run previews in the live server and Apply in worker processes, where
# one process sees too little of a list to tell)
os.environ.setdefault("CUTROOM_CHECK_SHARED_DETAIL", "1")


@pytest.fixture
def colour_segmenter():
    return ColourSegmenter()
