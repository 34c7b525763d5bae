"""The graph cut's step records on disk (step_store.StepStore): what one process stored another
reads back exactly; torn, foreign or out-of-range files are misses; writers replace whole
files; the folder stays within its budget, least recently used first."""

from __future__ import annotations

import os
import threading

import numpy as np

from cutouts.imaging.step_store import SUFFIX, StepStore
from cutouts.imaging.strokes import Stroke

SIZE = 400 * 300


def _list(n: int, seed: int = 0) -> tuple[list[Stroke], list[tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    strokes = [Stroke("keep" if i % 2 else "remove", float(rng.uniform(0.5, 9)),
                      tuple((float(x), float(y)) for x, y in rng.uniform(0, 300, (i % 3 + 1, 2))))
               for i in range(n)]
    done = [(np.sort(rng.choice(SIZE, 40, replace=False)),
             np.sort(rng.choice(SIZE, int(rng.integers(0, 3000)), replace=False)))
            for _ in range(n)]
    return strokes, done


def _files(store: StepStore) -> list[str]:
    return sorted(f for f in os.listdir(store.root) if f.endswith(SUFFIX))


def test_it_gives_back_the_strokes_and_records_another_process_stored(tmp_path):
    strokes, done = _list(12)
    StepStore(tmp_path, 1 << 30).save("photo-a", strokes, done, SIZE)
    got = StepStore(tmp_path, 1 << 30).load("photo-a", SIZE)  # another process's object
    assert got is not None
    assert got[0] == strokes  # floats to the last bit: the replay compares them with ==
    assert len(got[1]) == 12
    for (core, flip), (core2, flip2) in zip(done, got[1], strict=True):
        assert core2.dtype == np.intp and np.array_equal(core, core2)
        assert np.array_equal(flip, flip2)
    assert StepStore(tmp_path, 1 << 30).load("photo-b", SIZE) is None


def test_it_misses_a_file_another_key_wrote_under_its_name(tmp_path):
    store = StepStore(tmp_path, 1 << 30)
    store.save("photo-a", *_list(3), SIZE)
    os.replace(store._path("photo-a"), store._path("photo-b"))
    assert store.load("photo-b", SIZE) is None


def test_it_drops_a_torn_file_and_misses(tmp_path):
    store = StepStore(tmp_path, 1 << 30)
    store.save("photo-a", *_list(6), SIZE)
    path = store._path("photo-a")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a writer's crash, a full disk
    assert store.load("photo-a", SIZE) is None
    assert not path.exists()  # cut again, and written again whole


def test_it_misses_records_whose_bytes_changed_on_disk(tmp_path):
    store = StepStore(tmp_path, 1 << 30)
    store.save("photo-a", *_list(6), SIZE)
    path = store._path("photo-a")
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x40  # one bit inside the records (the zip's CRC catches it)
    path.write_bytes(bytes(data))
    assert store.load("photo-a", SIZE) is None


def test_it_refuses_records_outside_the_image_it_is_asked_for(tmp_path):
    store = StepStore(tmp_path, 1 << 30)
    store.save("photo-a", *_list(6), SIZE)
    assert store.load("photo-a", SIZE // 4) is None


def test_it_keeps_the_least_recently_used_files_out_of_its_budget(tmp_path):
    strokes, done = _list(8)
    one = StepStore(tmp_path, 1 << 30)
    one.save("a", strokes, done, SIZE)
    size = os.path.getsize(one._path("a"))
    store = StepStore(tmp_path, int(size * 3.5))  # room for three
    for key in ("b", "c"):
        store.save(key, strokes, done, SIZE)
    for age, key in ((300, "a"), (200, "b"), (100, "c")):  # written in that order
        os.utime(store._path(key), (1e9 - age, 1e9 - age))
    assert store.load("a", SIZE) is not None  # the oldest, but read now: an Apply
    store.save("d", strokes, done, SIZE)
    assert store.load("b", SIZE) is None  # the least recently used went
    assert all(store.load(k, SIZE) is not None for k in ("a", "c", "d"))
    assert len(_files(store)) == 3


def test_it_stores_nothing_with_no_budget(tmp_path):
    store = StepStore(tmp_path, 0)
    store.save("a", *_list(3), SIZE)
    assert _files(store) == [] and store.load("a", SIZE) is None


def test_it_shows_readers_one_writer_whole_file_while_writers_race(tmp_path):
    lists = {n: _list(n, seed=n) for n in (3, 7, 11, 15)}
    errors, seen = [], set()
    stop = threading.Event()

    def write(n):
        store = StepStore(tmp_path, 1 << 30)  # a process of its own
        for _ in range(15):
            store.save("photo", *lists[n], SIZE)

    def read():
        store = StepStore(tmp_path, 1 << 30)
        while not stop.is_set():
            got = store.load("photo", SIZE)
            if got is None:
                continue
            n = len(got[0])
            seen.add(n)
            strokes, done = lists.get(n, ([], []))
            if got[0] != strokes or not all(
                    np.array_equal(a, b) for pair, pair2 in zip(got[1], done, strict=True)
                    for a, b in zip(pair, pair2, strict=True)):
                errors.append(n)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(n,)) for n in lists]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors and seen  # every read was one writer's whole list
    assert os.listdir(tmp_path) == [StepStore(tmp_path, 1)._path("photo").name]  # no temp file


def test_it_forgets_a_write_it_cannot_make(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = StepStore(blocker, 1 << 30)
    store.save("a", *_list(3), SIZE)  # logged, not raised: the cut's result stands
    assert store.load("a", SIZE) is None


def test_it_gives_back_the_changed_pixels_another_process_stored(tmp_path):
    # the detail brush's working-size solve (retouch._shared_detail): a plane's changed pixels
    rng = np.random.default_rng(4)
    idx = np.sort(rng.choice(SIZE, 5000, replace=False))
    values = rng.integers(0, 256, len(idx)).astype(np.uint8)
    StepStore(tmp_path, 1 << 30).save_changes("detail-a", idx, values, SIZE)
    got = StepStore(tmp_path, 1 << 30).load_changes("detail-a", SIZE)
    assert got is not None
    assert got[0].dtype == np.intp and np.array_equal(got[0], idx)
    assert got[1].dtype == np.uint8 and np.array_equal(got[1], values)
    assert StepStore(tmp_path, 1 << 30).load_changes("detail-b", SIZE) is None
    # outside the plane it is asked for: a miss, and the file is dropped
    assert StepStore(tmp_path, 1 << 30).load_changes("detail-a", SIZE // 4) is None
    assert _files(StepStore(tmp_path, 1 << 30)) == []


def test_it_writes_after_the_call_in_the_background_newest_list_last(tmp_path, monkeypatch):
    # a preview's response does not wait for the disk; the file ends up with the newest list
    store = StepStore(tmp_path, 1 << 30, background=True)
    gate, written = threading.Event(), []
    real = store._write_now

    def slow_disk(key, arrays):
        gate.wait(10)
        written.append((key, len(arrays["kinds"])))
        real(key, arrays)

    monkeypatch.setattr(store, "_write_now", slow_disk)
    strokes, done = _list(5)
    store.save("photo-a", strokes[:3], done[:3], SIZE)
    store.save("photo-a", strokes, done, SIZE)  # the next preview's, while the first is written
    store.save("photo-b", strokes[:2], done[:2], SIZE)
    # not on disk yet, but this object answers from what it holds
    assert StepStore(tmp_path, 1 << 30).load("photo-a", SIZE) is None
    got = store.load("photo-a", SIZE)
    assert got is not None and got[0] == strokes
    assert store.load("photo-a", SIZE // 4) is None
    gate.set()
    store.flush()
    assert store._writer is None and not store._pending
    assert written[-2:] == [("photo-a", 5), ("photo-b", 2)]
    other = StepStore(tmp_path, 1 << 30)
    got = other.load("photo-a", SIZE)
    assert got is not None and got[0] == strokes
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(got[1], done, strict=True))
    got_b = other.load("photo-b", SIZE)
    assert got_b is not None and got_b[0] == strokes[:2]
