"""The id of this test run, which seeds the photos tests make (tests/cutouts/conftest.py's
``make_assets``) and other per-run data.

Storage can outlive one run (a long-lived S3 bucket in CI), so the default differs on every
run and the content-addressed names of one run never meet another's. A failure that depends
on those pixels replays with ``CUTROOM_TEST_RUN_ID=<the id the pytest header printed>``."""

import os
import zlib

ENV = "CUTROOM_TEST_RUN_ID"
RUN_ID = os.environ.get(ENV, "").strip() or os.urandom(8).hex()


def run_seed(name: str, modulo: int = 1_000_000) -> int:
    """A seed below ``modulo`` for ``name`` (a test's node id, a module) in this run."""
    return zlib.crc32(f"{RUN_ID}:{name}".encode()) % modulo
