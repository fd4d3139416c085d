"""Annotation labels meet the model's classes: case-insensitively, through an optional map
(`--label-map 'Kratzer=scratch,Fleck=spot'`); the labels that meet no class are named (in
the row's note, and counted over the lot by the CLI), never silently dropped."""

from __future__ import annotations

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
    """A label's class index for one model (read-only once made: safe in decoding threads)."""

    def __init__(self, class_names: Sequence[str], mapping: Mapping[str, str] | None = None) -> None:
        """Labels resolve against `class_names`, after `mapping` (from parse_label_map)."""
        self.class_names = tuple(class_names)
        self.mapping = {k.casefold(): v for k, v in (mapping or {}).items()}

    def index(self, label: str) -> int | None:
        """The class index of `label` (mapped first, then matched ignoring case), or None."""
        target = self.mapping.get(label.strip().casefold(), label)
        return _match(target, self.class_names)

    def unknown(self, labels: Sequence[str]) -> list[str]:
        """The labels among `labels` that meet no class (sorted, unique)."""
        return sorted({label for label in labels if self.index(label) is None})
