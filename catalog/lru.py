"""The one in-process cache of recently used values (decoded images, parsed manifests).

Web and worker processes keep a few expensive-to-rebuild values between requests: the loupe's
decoded full-size image, the retouch preview's arrays, a scene's decoded library images, an
upload session's parsed manifest. Each keeps the ``size`` most recently used, per process, and
is safe across threads. A value is built outside the lock, so one slow decode never blocks
readers of other keys; two threads missing the same key may both build it, and the later one
is kept (the values are equal, so either will do).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LruCache keeps at least one value")
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, build: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``build()``, kept (evicting the least recently
        used beyond ``size``)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
