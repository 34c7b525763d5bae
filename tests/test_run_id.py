"""The run id that seeds the photos tests make: printed in the pytest header, replayed from
``CUTROOM_TEST_RUN_ID`` (tests/run_id.py)."""

import os
import subprocess
import sys
import zlib
from pathlib import Path

from tests.run_id import ENV, RUN_ID

ROOT = Path(__file__).resolve().parent.parent
PRINT = "from tests.run_id import RUN_ID, run_seed; print(RUN_ID, run_seed('tests/x.py::t'))"


def _run_id(**env) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k != ENV}
    return subprocess.run([sys.executable, "-c", PRINT], env={**base, **env}, cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.split()


def test_it_replays_the_run_id_and_the_seeds_it_gives_from_the_environment():
    assert _run_id(**{ENV: "9acc5bafe8ceb870"}) == [
        "9acc5bafe8ceb870", str(zlib.crc32(b"9acc5bafe8ceb870:tests/x.py::t") % 1_000_000)]


def test_it_draws_a_new_run_id_on_every_run_without_one():
    first, second = _run_id(), _run_id()
    assert first[0] != second[0] and len(first[0]) == 16


def test_it_prints_the_run_id_and_how_to_replay_it_in_the_pytest_header():
    from tests.conftest import pytest_report_header

    assert f"cutroom test run id: {RUN_ID} (replay: {ENV}={RUN_ID})" in (
        pytest_report_header(config=None))
