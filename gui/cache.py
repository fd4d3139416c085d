"""The cache of finished explanations (the messages themselves are in gui.protocol)."""

from __future__ import annotations

from collections import OrderedDict


class ResultCache:
    """A small least-recently-used cache of (Explanation, display image) pairs."""

    def __init__(self, limit: int = 96) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        """The cached pair, or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: tuple, value: tuple) -> None:
        """Store a pair, dropping the oldest beyond the limit."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a new model was loaded)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
