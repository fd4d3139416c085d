"""Annotation labels meet the model's classes: case-insensitively, through an optional map
(`--label-map 'Kratzer=scratch,Fleck=spot'`), and every label that meets no class is
counted (which label, how many images) so it can be reported, never silently dropped."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from engine.errors import ConvScopeError


class LabelMapError(ConvScopeError):
    """A --label-map is malformed or names a class the model does not have."""


def parse_label_map(text: str | None, class_names: Sequence[str]) -> dict[str, str]:
    """'from=to,from=to' as {from (case-folded): class name}; refuses unknown target classes."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise LabelMapError(f"--label-map: {item.strip()!r} is not LABEL=CLASS")
        found = _match(target.strip(), class_names)
        if found is None:
            raise LabelMapError(f"--label-map: {target.strip()!r} is not a class of the model "
                                f"({', '.join(class_names)})")
        mapping[source.strip().casefold()] = class_names[found]
    return mapping


def _match(label: str, class_names: Sequence[str]) -> int | None:
    folded = label.strip().casefold()
    return next((i for i, name in enumerate(class_names) if name.casefold() == folded), None)


class LabelResolver:
    """A label's class index for one model, with a tally of the labels that have none.

    Thread-safe: images (and their annotations) are read by a pool of decoding threads.
    """

    def __init__(self, class_names: Sequence[str], mapping: Mapping[str, str] | None = None) -> None:
        """Labels resolve against `class_names`, after `mapping` (from parse_label_map)."""
        self.class_names = tuple(class_names)
        self.mapping = {k.casefold(): v for k, v in (mapping or {}).items()}
        self.unknown: dict[str, set[str]] = {}  # label -> images it occurs in
        self._lock = threading.Lock()

    def index(self, label: str) -> int | None:
        """The class index of `label` (mapped first, then matched ignoring case), or None."""
        target = self.mapping.get(label.strip().casefold(), label)
        return _match(target, self.class_names)

    def note_unknown(self, labels: Sequence[str], image: str) -> list[str]:
        """Count the labels of `image` that meet no class; returns them (sorted, unique)."""
        missing = sorted({label for label in labels if self.index(label) is None})
        with self._lock:
            for label in missing:
                self.unknown.setdefault(label, set()).add(image)
        return missing

    def report(self) -> str:
        """One line naming the unknown labels and how many images carry each ("" when none)."""
        if not self.unknown:
            return ""
        parts = [f"{label!r} ({len(images)} image{'s' if len(images) != 1 else ''})"
                 for label, images in sorted(self.unknown.items())]
        return (f"labels that are not classes of the model ({', '.join(self.class_names)}), their regions "
                f"left out: {', '.join(parts)}; map them with --label-map 'LABEL=CLASS'")
