"""What every headless command shares: model options, opening the session, output."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_MODEL = RESOURCES / "demo" / "defects.keras"
DEMO_IMAGES = RESOURCES / "demo" / "images"


def add_model_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--model, --preprocessing and --trust-model, accepted by every model-taking command."""
    from engine.images.preprocessing import PREPROCESSING_MODES

    parser.add_argument("--model", required=required, help="model: Keras (.keras, .h5) or a deployed export opened as a black box "
                        "(.tflite, .onnx, a SavedModel folder)")
    parser.add_argument("--preprocessing", choices=PREPROCESSING_MODES,
                        help="input preprocessing (overrides the sidecar)")
    parser.add_argument("--trust-model", action="store_true",
                        help="load a model that safe mode refuses (it may run code); only for models you trust")


# Arguments that name something a command reads, by destination: the model (a file or a
# SavedModel folder), one image, and `images` (a folder, or predict's list of image files).
INPUT_PATHS = {"model": "model", "against": "model", "image": "file", "images": "folder or files",
               "annotations": "annotation file or folder"}


def check_inputs(args: argparse.Namespace) -> None:
    """Refuse, before the engine (TensorFlow) loads, an input path that does not exist or is
    of the wrong kind: one ConvScopeError naming the option and the path."""
    for dest, kind in INPUT_PATHS.items():
        value = getattr(args, dest, None)
        if isinstance(value, list):
            for path in value:
                _check_input(None, path, "file")
        elif value:
            _check_input(f"--{dest}", value, "folder" if kind == "folder or files" else kind)


def _check_input(option: str | None, path: str, kind: str) -> None:
    from engine.errors import ImageLoadError, ModelLoadError
    from engine.model.loading import check_local_path  # no TensorFlow: only engine.errors

    named = f"{option} {path}" if option else path
    if kind == "model":
        try:
            check_local_path(path)
        except ModelLoadError as exc:
            raise ModelLoadError(f"{option} {exc}") from None
        return
    target = Path(path).expanduser()
    if not target.exists():
        raise ImageLoadError(f"{named}: no such {kind}")
    if kind == "folder" and not target.is_dir():
        raise ImageLoadError(f"{named}: is a file, not a folder")
    if kind == "file" and target.is_dir():
        raise ImageLoadError(f"{named}: is a folder, not an image file")


def open_session(args: argparse.Namespace):
    """Load the model named by the options; safe-mode refusals say how to override."""
    from engine import Session

    session = Session.open(args.model, trust=args.trust_model, preprocessing=args.preprocessing)
    if getattr(args, "command", None) != "info":  # info lists every warning itself
        for warning in session.info.warnings:
            if "sidecar" in warning or "safe mode" in warning:
                print(f"convscope: warning: {warning}", file=sys.stderr)
    return session


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


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1 (opacity)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def check_outputs(outputs: dict[str, tuple[str | None, tuple[str, ...]]], inputs: list[str | None]) -> None:
    """Refuse, before any work, output files that would overwrite an input or each other, have
    the wrong extension, or cannot be created. `outputs` maps an option to (path, suffixes)."""
    from engine.errors import OutputPathError

    taken = {Path(p).resolve(): "an input" for p in inputs if p}
    for option, (path, suffixes) in outputs.items():
        if not path:
            continue
        target = Path(path)
        if target.suffix.lower() not in suffixes:
            raise OutputPathError(f"{option} {path}: the file name must end in {' or '.join(suffixes)}")
        if target.is_dir():
            raise OutputPathError(f"{option} {path}: is a folder, give a file name")
        resolved = target.resolve()
        if resolved in taken:
            raise OutputPathError(f"{option} {path}: is {taken[resolved]}; choose another file name")
        taken[resolved] = f"also the file of {option}"
        parent = next(p for p in (resolved, *resolved.parents) if p.exists() or p == p.parent)
        if parent != resolved and not parent.is_dir():
            raise OutputPathError(f"{option} {path}: cannot create it, {parent} is a file")
        _check_writable(option, path, parent if parent != resolved else resolved.parent)


def _check_writable(option: str, path: str, folder: Path) -> None:
    """Create and drop an unnamed temporary file in the folder: the one test that also holds for
    root and for read-only or virtual file systems."""
    from engine.errors import OutputPathError

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None


def _method_key(text: str) -> str:
    """'Grad-CAM++', 'gradcam++' and 'GradCAM ++' all give 'gradcam++'."""
    return re.sub(r"[^a-z0-9+]", "", text.lower())


def method_names() -> dict[str, str]:
    """Every spelling `--method` accepts (engine names and the window's titles, loosely
    written) -> the engine name. Importing the registry does not import TensorFlow."""
    from engine.methods import METHODS

    names = {_method_key(str(getattr(cls, "title", name))): name for name, cls in METHODS.items()}
    names.update({_method_key(name): name for name in METHODS})
    return names


def method_name(text: str) -> str:
    """argparse type for --method: an engine name or a window title ("Grad-CAM", any case);
    a typo is refused in one line that suggests the closest name."""
    from engine.methods import METHODS

    names = method_names()
    key = _method_key(text)
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    hint = f"did you mean '{names[close[0]]}'? " if close else ""
    raise argparse.ArgumentTypeError(f"unknown method '{text}'; {hint}methods: {', '.join(METHODS)}")


def method_help(default: str = "gradcam") -> str:
    """The --method help: every engine name, and that window titles work too."""
    from engine.methods import METHODS

    return (f"explanation method (default {default}): {', '.join(METHODS)}; "
            "the window's titles work too (e.g. Grad-CAM++, any case)")


class Progress:
    """progress(done, total) for a headless command: a tqdm bar with rate and time left on a
    terminal; elsewhere (a log, a pipe) one plain line per step, or per `every` of the total."""

    def __init__(self, stream: TextIO, label: str, unit: str, every: float = 0.0) -> None:
        self.stream, self.label, self.unit, self.every = stream, label, unit, every
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.total = 0
        self._bar: Any = None
        self._first: tuple[int, float] | None = None  # (done, time) at the first call (a resume starts above 0)
        self._base: tuple[int, float] | None = None  # (done, time) when the first step finished: the rate's start
        self._started = time.perf_counter()
        self._next = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Show the state after `done` of `total`."""
        self.total = total
        if self.tty:
            self._tqdm(done, total)
        elif done >= total or done >= self._next * total:
            self.stream.write(self._line(done, total) + "\n")
            self.stream.flush()
            self._next = done / max(1, total) + self.every
        if done >= total:
            self.close()

    def note(self, text: str) -> None:
        """One line of news above the bar (or between the progress lines)."""
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _line(self, done: int, total: int) -> str:
        """`review: img 5/12 (41%), 0.9 s, 5.6 img/s, ~1 s left` (rate and time left once known).
        The rate counts from the first step that finished, not from the start: a start-up (Ray
        starting its actors, a first trace) would otherwise make it look slow for the whole run."""
        now = time.perf_counter()
        line = f"{self.label}: {self.unit} {done}/{total} ({100 * done // max(1, total)}%), {now - self._started:.1f} s"
        if self._first is None:
            self._first = (done, now)
        elif self._base is None and done > self._first[0]:
            self._base = (done, now)
        elif self._base is not None and now > self._base[1] and done > self._base[0]:
            rate = (done - self._base[0]) / (now - self._base[1])
            line += f", {rate:.1f} {self.unit}/s" + (f", ~{(total - done) / rate:.0f} s left" if done < total else "")
        return line

    def _tqdm(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=total, initial=done, desc=self.label, unit=self.unit, file=self.stream,
                             dynamic_ncols=True, leave=True)
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """End the bar (a no-op when there is none)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_for(stream: TextIO, label: str, unit: str, quiet: bool = False,
                 every: float = 0.0) -> Callable[[int, int], None] | None:
    """A Progress on `stream`, or None when quiet."""
    return None if quiet else Progress(stream, label, unit, every)
