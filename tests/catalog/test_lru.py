"""The one in-process cache of recently used values."""

import threading

import pytest

from catalog.lru import LruCache


def test_it_builds_once_and_evicts_the_least_recently_used():
    cache: LruCache[str, int] = LruCache(2)
    built = []

    def build(key, value):
        return lambda: built.append(key) or value

    assert cache.get("a", build("a", 1)) == 1
    assert cache.get("b", build("b", 2)) == 2
    assert cache.get("a", build("a", 99)) == 1  # a hit: not rebuilt, and now the newest
    cache.get("c", build("c", 3))  # evicts b, the least recently used
    assert "a" in cache and "c" in cache and "b" not in cache and len(cache) == 2
    assert built == ["a", "b", "c"]
    cache.put("d", 4)  # evicts a
    assert "a" not in cache and cache.get("d", build("d", 0)) == 4
    cache.clear()
    assert len(cache) == 0


def test_it_builds_outside_the_lock():
    cache: LruCache[str, int] = LruCache(4)
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        assert release.wait(10)
        return 1

    worker = threading.Thread(target=cache.get, args=("slow", slow))
    worker.start()
    assert started.wait(10)
    assert cache.get("fast", lambda: 2) == 2  # not blocked by the slow build
    release.set()
    worker.join(10)
    assert cache.get("slow", lambda: 0) == 1


def test_it_refuses_a_size_below_one():
    with pytest.raises(ValueError):
        LruCache(0)
