"""The graph cut's step records on disk, shared by the processes that cut the same image."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .strokes import KINDS, Stroke

logger = logging.getLogger(__name__)

# A record of one stroke: (its core's flat indices, the flat indices its step flipped), sorted.
Record = tuple[np.ndarray, np.ndarray]
_T = TypeVar("_T")

SUFFIX = ".steps.npz"
_TMP_PREFIX = ".tmp-"
_TMP_STALE_S = 3600.0  # a writer's temporary file this old lost its writer (a killed process)
_SWEEP_SHARE = 16  # a process sweeps after writing this share of the budget since its last


@functools.cache
def code_stamp() -> str:
    """A digest of the imaging package's source and the libraries the cut runs on: records
    written by other code (a deploy, another helper's change to the cut) are never replayed,
    since a replay must give the pixels this code's cut gives."""
    import cv2
    import maxflow
    import scipy

    hsh = hashlib.blake2b(digest_size=12)
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        hsh.update(path.name.encode())
        hsh.update(path.read_bytes())
    for version in (np.__version__, cv2.__version__, scipy.__version__,
                    getattr(maxflow, "__version__", "")):
        hsh.update(str(version).encode())
    return hsh.hexdigest()


class StepStore:
    """Records of the graph cut's steps (``retouch_cut.segment``) under ``root``, one file per
    key (the photo, prior and params the cut ran on): the web process's previews write them
    and the worker's Apply of the same list replays them instead of cutting every stroke
    again. A cache: a missing, foreign or unreadable file is a miss, and a failed write is
    logged and forgotten. Files are written whole and renamed into place, so a reader sees
    one writer's complete file (the last one's); the least recently used go first once the
    folder holds more than ``max_bytes``. The detail brush's working-size solve is shared the
    same way (``save_changes``, ``retouch._shared_detail``).

    ``background``: files are packed and written by a thread of this object, after the call
    that saves them returns (a preview's response does not wait for the disk: p50 18 ms of
    wall under load for 8 strokes at 1024 px, 155 ms for 600), newest list per key only;
    until written, this object's own reads are answered from what is pending, and a process
    that ends normally waits for the thread (not a daemon). ``flush()`` waits for it."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int, *,
                 background: bool = False) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.background = background
        self._written = 0  # bytes this object wrote since its last sweep
        self._swept = False
        self._lock = threading.Lock()  # guards _pending and _writer
        # (background) what is still to be written, by key, oldest first: how to pack it
        self._pending: dict[str, Callable[[], dict[str, np.ndarray]]] = {}
        self._writer: threading.Thread | None = None

    def _path(self, key: str) -> Path:
        return self.root / (hashlib.blake2b(key.encode(), digest_size=20).hexdigest() + SUFFIX)

    def load(self, key: str, size: int) -> tuple[list[Stroke], list[Record]] | None:
        """(strokes, their records) stored under ``key`` for a ``size``-pixel image, or None."""
        return self._read(key, lambda npz: _unpack(npz, key, size))

    def save(self, key: str, strokes: Sequence[Stroke], done: Sequence[Record],
             size: int) -> None:
        """Store ``strokes`` and their records under ``key`` (the whole list: one file per
        key), replacing what was there."""
        if self.max_bytes <= 0 or not strokes:
            return
        strokes, done = list(strokes), list(done)  # the caller's lists may change later
        self._write(key, lambda: _pack(key, strokes, done, size))

    def load_changes(self, key: str, size: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(flat indices, uint8 values) stored under ``key`` by ``save_changes`` for a
        ``size``-pixel plane, or None."""
        return self._read(key, lambda npz: _unpack_changes(npz, key, size))

    def save_changes(self, key: str, idx: np.ndarray, values: np.ndarray, size: int) -> None:
        """Store the pixels a step changed in a ``size``-pixel plane (``idx``, sorted flat
        indices, and their new ``values``, uint8) under ``key``: the detail brush's working-size
        solve, which the worker's Apply replays from the preview's (``retouch``)."""
        if self.max_bytes <= 0:
            return
        index = np.int32 if size < 2**31 else np.int64
        arrays = {"key": np.array(key), "idx": np.asarray(idx).astype(index),
                  "values": np.array(values, np.uint8)}
        self._write(key, lambda: arrays)

    def flush(self) -> None:
        """Wait until what this object saved is on disk (``background``)."""
        while True:
            with self._lock:
                writer = self._writer
            if writer is None:
                return
            writer.join()

    def _read(self, key: str, unpack: Callable[[Any], _T | None]) -> _T | None:
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:  # saved by this object, not written yet: the newest there is
            try:
                return unpack(pending())
            except (ValueError, KeyError, IndexError):
                return None  # asked for another image's size: a miss, as from the file
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as npz:
                got = unpack(npz)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile, EOFError):
            # torn by a crash, cut short by a full disk, or not ours: cut again, and make room
            logger.warning("dropping unreadable retouch step records %s", path, exc_info=True)
            _unlink(path)
            return None
        if got is None:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the sweep drops the least recently used first
        return got

    def _write(self, key: str, pack: Callable[[], dict[str, np.ndarray]]) -> None:
        if not self.background:
            self._write_now(key, pack())
            return
        with self._lock:
            # a newer list of a key replaces one not written yet, and goes last
            self._pending.pop(key, None)
            self._pending[key] = pack
            if self._writer is None:
                self._writer = threading.Thread(target=self._drain, name="retouch-steps-writer")
                self._writer.start()

    def _drain(self) -> None:
        """The writer thread (``background``): write what is pending, oldest first, then end."""
        while True:
            with self._lock:
                if not self._pending:
                    self._writer = None
                    return
                key, pack = next(iter(self._pending.items()))
            try:
                self._write_now(key, pack())
            except Exception:  # a cache: never let one bad write stop the others
                logger.exception("storing retouch step records under %s failed", self.root)
            finally:
                with self._lock:
                    # still readable from memory while written; a newer save of the key stays
                    if self._pending.get(key) is pack:
                        del self._pending[key]

    def _write_now(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".npz", dir=self.root)
            try:
                os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide it from a worker's other user
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, **arrays)  # type: ignore[arg-type]
                    written = fh.tell()
                os.replace(tmp, self._path(key))
            except BaseException:
                _unlink(Path(tmp))
                raise
        except OSError:
            logger.warning("storing retouch step records under %s failed", self.root,
                           exc_info=True)
            return
        self._written += written
        if not self._swept or self._written * _SWEEP_SHARE >= self.max_bytes:
            self.sweep()

    def sweep(self) -> None:
        """Drop the least recently used files until the folder holds at most ``max_bytes``,
        and writers' temporary files an hour old."""
        self._written, self._swept = 0, True
        entries = []
        now = time.time()
        try:
            with os.scandir(self.root) as it:
                for entry in it:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue  # dropped by another process meanwhile
                    if entry.name.startswith(_TMP_PREFIX):
                        if now - st.st_mtime > _TMP_STALE_S:
                            _unlink(Path(entry.path))
                    elif entry.name.endswith(SUFFIX):
                        entries.append((st.st_mtime, st.st_size, entry.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            _unlink(Path(path))
            total -= size


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):  # gone already (another process's sweep)
        path.unlink()


def _pack(key: str, strokes: Sequence[Stroke], done: Sequence[Record],
          size: int) -> dict[str, np.ndarray]:
    index = np.int32 if size < 2**31 else np.int64
    cores = [c for c, _ in done]
    flips = [f for _, f in done]
    return {
        "key": np.array(key),
        "kinds": np.array([KINDS.index(st.kind) for st in strokes], np.uint8),
        "radii": np.array([st.radius for st in strokes], np.float64),
        "npoints": np.array([len(st.points) for st in strokes], np.int64),
        "points": np.array([p for st in strokes for p in st.points], np.float64).reshape(-1, 2),
        "ncore": np.array([len(c) for c in cores], np.int64),
        "nflip": np.array([len(f) for f in flips], np.int64),
        "cores": np.concatenate(cores).astype(index) if cores else np.zeros(0, index),
        "flips": np.concatenate(flips).astype(index) if flips else np.zeros(0, index),
    }


def _split(flat: np.ndarray, counts: np.ndarray, size: int) -> list[np.ndarray]:
    if counts.sum() != len(flat):
        raise ValueError("record lengths do not add up")
    parts = np.split(flat.astype(np.intp), np.cumsum(counts)[:-1]) if len(counts) else []
    for part in parts:
        # sorted, no index twice (a replay flips each once), and inside the image
        if len(part) and (part[0] < 0 or part[-1] >= size or (np.diff(part) <= 0).any()):
            raise ValueError("record indices out of order or outside the image")
    return parts


def _unpack(npz: np.lib.npyio.NpzFile, key: str,
            size: int) -> tuple[list[Stroke], list[Record]] | None:
    if str(npz["key"]) != key:
        return None  # another key under the same file name: not this image's records
    kinds, radii, npoints = npz["kinds"], npz["radii"], npz["npoints"]
    points = npz["points"]
    ends = np.cumsum(npoints)
    if not len(kinds) == len(radii) == len(npoints) or (ends[-1] if len(ends) else 0) != len(
            points):
        raise ValueError("stroke arrays do not match")
    strokes = [Stroke(KINDS[k], float(r), tuple((float(x), float(y)) for x, y in
                                                 points[e - n:e].tolist()))
               for k, r, n, e in zip(kinds.tolist(), radii.tolist(), npoints.tolist(),
                                     ends.tolist(), strict=True)]
    cores = _split(npz["cores"], npz["ncore"], size)
    flips = _split(npz["flips"], npz["nflip"], size)
    if len(cores) != len(flips) or len(cores) > len(strokes):
        raise ValueError("records do not match the strokes")
    return strokes[:len(cores)], list(zip(cores, flips, strict=True))


def _unpack_changes(npz: np.lib.npyio.NpzFile, key: str,
                    size: int) -> tuple[np.ndarray, np.ndarray] | None:
    if str(npz["key"]) != key:
        return None  # another key under the same file name
    values = npz["values"]
    if values.dtype != np.uint8:
        raise ValueError("changed values are not uint8")
    (idx,) = _split(npz["idx"], np.array([len(values)]), size)
    return idx, values
