"""What every headless command shares: model options, opening the session, output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_MODEL = RESOURCES / "demo" / "defects.keras"
DEMO_IMAGES = RESOURCES / "demo" / "images"


def add_model_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--model, --preprocessing and --trust-model, accepted by every model-taking command."""
    from engine.preprocessing import PREPROCESSING_MODES

    parser.add_argument("--model", required=required, help="Keras model file (.keras or .h5)")
    parser.add_argument("--preprocessing", choices=PREPROCESSING_MODES,
                        help="input preprocessing (overrides the sidecar)")
    parser.add_argument("--trust-model", action="store_true",
                        help="load a model that safe mode refuses (it may run code); only for models you trust")


def open_session(args: argparse.Namespace):
    """Load the model named by the options; safe-mode refusals say how to override."""
    from engine import Session

    return Session.open(args.model, trust=args.trust_model, preprocessing=args.preprocessing)


def print_json(data: dict[str, Any]) -> None:
    """One JSON object on stdout."""
    json.dump(data, sys.stdout, indent=2, default=_json_default)
    sys.stdout.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """A plain text table with columns sized to their contents."""
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
