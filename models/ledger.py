"""Which shared models a process holds, and which to release to stay within a memory budget."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class ModelLedger:
    """The models loaded for every session, least recently used first, each with its size in bytes and how to
    release it. Thread-safe: sessions run in threads of one process."""

    budget: int  # bytes
    _held: OrderedDict[str, tuple[int, Callable[[], None]]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, models: Mapping[str, tuple[int, Callable[[], None]]]) -> list[str]:
        """Note that `models` (cache key -> (bytes, release)) are in use now, and release the least recently used
        others until what is held fits the budget; the keys released. Models in use now are never released, so a
        family larger than the budget still shows."""
        with self._lock:
            for key, held in models.items():
                self._held[key] = held
                self._held.move_to_end(key)
            released = []
            for key in list(self._held):
                if self.held_bytes <= self.budget or key in models:
                    break
                released.append(key)
                self._held.pop(key)[1]()
            return released

    @property
    def held_bytes(self) -> int:
        return sum(size for size, _ in self._held.values())

    @property
    def held(self) -> list[str]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._held)
