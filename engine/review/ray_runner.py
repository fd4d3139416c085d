"""`batch --ray`: the lot review on Ray Data, on this machine or on a cluster.

The image paths become a Ray Dataset; `map_batches` runs :class:`ReviewActor` on a pool of
actors, each of which opens the model once and reviews its batches with the same per-batch
function as the single-process runner (so the rows are the same), writing the overlays
itself. The driver receives only rows (an Arrow table per batch, no maps), in the folder's
order, and hands them to the :class:`~engine.review.outdir.ReviewOutput` that writes
results.csv, results.parquet/, summary.json and report.html, exactly as a single-process
review does. A killed actor is restarted and its unfinished batch retried: Ray Data's
actor pool creates its actors with ``max_restarts=-1`` and ``max_task_retries=-1`` (passing
them to map_batches is deprecated since Ray 2.5x); rows already received are on disk. A
Python exception inside a batch is not retried: it fails the review with its message.

Ray is imported here only, and only when a review runs: it is an optional extra.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ConvScopeError
from engine.maps.render import write_png
from engine.review.outdir import draw_review_overlay, overlay_name
from engine.review.rows import ReviewRow
from engine.review.runner import (
    ReviewedImage,
    ReviewOptions,
    _item,
    _load,
    _review_batch,
    folder_images,
)
from engine.review.stats import ReviewResult, summarise
from engine.review.table import rows_to_table, table_to_rows

if TYPE_CHECKING:
    import pyarrow as pa

    from engine.review.outdir import ReviewOutput

INSTALL_HINT = 'Ray is not installed: pip install -e ".[cluster]" (or pip install "ray[data]")'
_EXTRA = ("_worker", "_node", "_started", "_seconds", "_trust")  # columns the actors add for the driver
FLUSH_ROWS, FLUSH_SECONDS = 1024, 1.0  # the driver writes received rows this often
CALLS_PER_ACTOR = 3  # batches in an actor at once: one decoding, one in the model, one writing overlays


@dataclass(frozen=True)
class ModelSource:
    """How every actor opens the model: the same file and options as the driver's session."""

    path: str
    trust: bool = False
    preprocessing: str | None = None


def import_ray():
    """The ray module, or a one-line ConvScopeError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library comes with the "data" extra
    except ImportError:
        raise ConvScopeError(INSTALL_HINT) from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None, verbose: bool = False) -> bool:
    """Join the cluster at `address` ("auto", "ray://host:10001", "host:6379"), or start Ray on
    this machine's cores when None. True when this call started or joined Ray (the caller
    then shuts it down); False when Ray was already initialised (a test, a notebook).

    Unless `verbose`, Ray's own logging stays out of the terminal: its Python loggers at
    ERROR, the workers' output not forwarded, and its native (C++) log lines, such as the
    driver's "actor restart will fail" notice about Ray Data's actor pool, only in Ray's
    session logs (/tmp/ray/session_latest/logs).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    level = "info" if verbose else "error"
    if not verbose:
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # no execution-plan chatter on the terminal
    env = {"TF_CPP_MIN_LOG_LEVEL": "0" if verbose else "2", "PYTHONPATH": _project_path()}
    try:
        with _native_log_level(None if verbose else "fatal"), _native_stderr_hidden(not verbose):
            if address:
                ray.init(address=address, logging_level=level, log_to_driver=verbose)
            else:
                # address="local": always a new instance on this machine, even when RAY_ADDRESS or a
                # `ray start` cluster on this machine would otherwise be joined (with num_cpus refused).
                ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         logging_level=level, log_to_driver=verbose, runtime_env={"env_vars": env})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConvScopeError(f"cannot {'join Ray at ' + address if address else 'start Ray'}: {exc}") from None
    return True


@contextmanager
def _native_stderr_hidden(hidden: bool) -> Iterator[None]:
    """File descriptor 2 into a discarded temporary file while Ray starts: its C++ core
    announces there, at INFO, the log level it read from RAY_BACKEND_LOG_LEVEL. Python's own
    errors are raised, not printed, so nothing the user needs is lost."""
    try:
        saved = os.dup(2) if hidden else -1
    except OSError:  # no stderr at all (a pythonw-like start): nothing to hide
        saved = -1
    if saved < 0:
        yield
        return
    sys.stderr.flush()
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def _native_log_level(level: str | None) -> Iterator[None]:
    """RAY_BACKEND_LOG_LEVEL while Ray starts (its C++ core reads it then); the user's own
    setting wins, and None leaves it alone."""
    if level is None or "RAY_BACKEND_LOG_LEVEL" in os.environ:
        yield
        return
    os.environ["RAY_BACKEND_LOG_LEVEL"] = level
    try:
        yield
    finally:
        del os.environ["RAY_BACKEND_LOG_LEVEL"]


def _project_path() -> str:
    """PYTHONPATH for local workers: this checkout first (the engine need not be installed)."""
    root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)


class ReviewActor:
    """One Ray Data actor: opens the model once, then reviews batches of relative paths.

    Ray Data runs up to CALLS_PER_ACTOR calls of an actor at once, in threads, and the model
    takes one batch at a time (a lock): so one batch is decoded and another's overlays are
    drawn and written while the model works, as the single-process runner's decode-ahead and
    writer threads do. Inline, decoding and the overlays took three quarters of a batch's time
    with the model waiting. A batch's overlays are on disk before its rows are returned, so a
    received row always has its overlay.
    """

    def __init__(self, model: ModelSource, images: str, out: str, options: ReviewOptions,
                 alpha: float = 0.4, colormap: str = "jet") -> None:
        from engine import Session

        self.session = Session.open(model.path, trust=model.trust, preprocessing=model.preprocessing)
        self.node = import_ray().get_runtime_context().get_node_id()  # the machine this actor runs on
        self.root, self.out, self.options = Path(images), Path(out), options
        self.alpha, self.colormap = alpha, colormap
        self.model_lock = threading.Lock()

    def __call__(self, batch: dict[str, Any]) -> pa.Table:
        """Review one batch ({"path": relative paths}); its rows as an Arrow table."""
        started, clock = time.perf_counter(), time.time()
        items = self._load_batch(batch["path"])
        with self.model_lock:
            reviewed = _review_batch(self.session, items, self.root, self.options, None)
        self._write_overlays(reviewed)
        return self._table(reviewed, started, clock)

    def _load_batch(self, paths) -> list:
        """The batch's images and masks, decoded."""
        return [_load(_item(self.root / str(p), self.root), self.session) for p in paths]

    def _write_overlays(self, reviewed: list[ReviewedImage]) -> None:
        """Draw and write the batch's overlays."""
        for item in reviewed:
            self._write_overlay(item)

    def _table(self, reviewed: list[ReviewedImage], started: float, clock: float) -> pa.Table:
        """The rows as Arrow, with the columns the driver reads apart (see _EXTRA)."""
        import pyarrow as pa

        table = rows_to_table([item.row for item in reviewed])
        count = table.num_rows
        table = table.append_column("_worker", pa.array([os.getpid()] * count, pa.int64()))
        table = table.append_column("_node", pa.array([self.node] * count, pa.string()))
        table = table.append_column("_trust", pa.array([self._trust(reviewed)] + [None] * (count - 1), pa.binary()))
        table = table.append_column("_started", pa.array([clock] * count, pa.float64()))
        return table.append_column("_seconds", pa.array([time.perf_counter() - started] * count))

    def _trust(self, reviewed: list[ReviewedImage]) -> bytes | None:
        """The batch's trust accumulator (AUPRO histograms, summed curves), pickled for the driver."""
        if not self.options.trust:
            return None
        from engine.trust.review import TrustAccumulator

        batch = TrustAccumulator()
        batch.add(reviewed)
        return pickle.dumps(batch)

    def _write_overlay(self, item: ReviewedImage) -> None:
        if item.image is not None and item.heatmap is not None:
            picture = draw_review_overlay(item, self.alpha, self.colormap)
            write_png(self.out / overlay_name(item.row), picture)


def default_actors(cpus_per_actor: float = 1.0) -> int:
    """One actor per `cpus_per_actor` CPUs of the cluster Ray is connected to."""
    ray = import_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))


def review_on_ray(output: ReviewOutput, images: str | os.PathLike, options: ReviewOptions, model: ModelSource,
                  class_names: tuple[str, ...], *, actors: int | None = None, cpus_per_actor: float = 1.0,
                  progress: Callable[[int, int], None] | None = None,
                  on_table: Callable[[pa.Table], None] | None = None) -> ReviewResult:
    """Review the images `output` does not hold yet on the Ray that is initialised (see
    `connect`), with `actors` actors (default: one per CPU); write everything into `output`.

    `on_table(table)` sees each batch as received, with the actors' `_worker` (pid), `_node`
    (Ray node id), `_started` (wall clock when the actor began the batch) and `_seconds` (time
    inside the actor) columns. Returns the same ReviewResult as
    ReviewOutput.review; KeyboardInterrupt leaves the rows so far for the caller to finish.
    """
    root, started = Path(images), time.perf_counter()
    trust = _TrustMerger() if options.trust else None
    finished = {row.path for row in output.done}
    pending = [_item(p, root).relative for p in folder_images(root, exclude=output.folder)]
    pending = [p for p in pending if p not in finished]
    total = len(output.done) + len(pending)
    if progress is not None:
        progress(len(output.rows), total)
    tables = _row_tables(pending, root, output, options, model, actors, cpus_per_actor) if pending else iter(())
    received, buffer = len(output.rows), _RowBuffer(output)
    try:
        for table in tables:
            if on_table is not None:
                on_table(table)
            if trust is not None:
                trust.add(table.column("_trust")[0].as_py())
            buffer.add(table_to_rows(table.drop_columns(list(_EXTRA))))
            received += table.num_rows
            if progress is not None:
                progress(received, total)
    finally:
        buffer.flush()  # rows received before an interruption are written too
        if hasattr(tables, "close"):
            tables.close()  # stops the dataset's execution (and frees its actors) on an interruption
    result = summarise(output.rows, class_names, total, True, time.perf_counter() - started,
                       trust=trust.accumulator if trust is not None else None)
    output.finish(result, "complete")
    return result


class _RowBuffer:
    """Rows gathered for up to FLUSH_SECONDS or FLUSH_ROWS before ReviewOutput.on_rows writes
    them (one fsync of results.csv per flush instead of per batch: the driver keeps up with a
    cluster). An actor's death loses nothing; the driver's own death loses at most this buffer,
    which --resume recomputes."""

    def __init__(self, output: ReviewOutput) -> None:
        self.output, self.since = output, time.perf_counter()
        self.rows: list[ReviewRow] = []

    def add(self, rows: list[ReviewRow]) -> None:
        """Buffer rows; write them when enough have gathered or enough time has passed."""
        self.rows.extend(rows)
        if len(self.rows) >= FLUSH_ROWS or time.perf_counter() - self.since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows."""
        if self.rows:
            self.output.on_rows(self.rows)
        self.rows, self.since = [], time.perf_counter()


class _TrustMerger:
    """The actors' per-batch trust accumulators summed into one, as the single-process runner
    accumulates batch after batch (AUPRO histograms and curve sums add up)."""

    def __init__(self) -> None:
        from engine.trust.review import TrustAccumulator

        self.accumulator = TrustAccumulator()

    def add(self, pickled: bytes | None) -> None:
        """Add one batch's accumulator (None: the batch had no trust data)."""
        if pickled is None:
            return
        batch, into = pickle.loads(pickled), self.accumulator  # noqa: S301 - from our own actors
        for label, aupro in batch.aupro.items():
            summed = into.aupro.setdefault(label, aupro)
            if summed is not aupro:
                summed.background += aupro.background
                summed.overlap += aupro.overlap
                summed.regions += aupro.regions
                summed.images += aupro.images
        for label, entry in batch.curves.items():
            total = into.curves.setdefault(label, entry)
            if total is not entry and len(total["fractions"]) == len(entry["fractions"]):
                total["images"] += entry["images"]
                total["map"] += entry["map"]
                total["random"] += entry["random"]


def _row_tables(pending: list[str], root: Path, output: ReviewOutput, options: ReviewOptions,
                model: ModelSource, actors: int | None, cpus_per_actor: float):
    """The rows of `pending` as Arrow tables, one per batch, in the given order."""
    ray = import_ray()
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # results.csv in the folder's order
    context.enable_progress_bars = False
    size = options.batch_size
    import pyarrow as pa

    # One block per batch: each actor call reviews the same images as the single-process runner's batch.
    blocks = [pa.table({"path": pending[i:i + size]}) for i in range(0, len(pending), size)]
    reviewed = ray.data.from_arrow(blocks).map_batches(
        ReviewActor, batch_size=size, batch_format="numpy",
        fn_constructor_kwargs={"model": model, "images": str(root), "out": str(output.folder),
                               "options": options, "alpha": output.alpha, "colormap": output.colormap},
        compute=ray.data.ActorPoolStrategy(size=actors or default_actors(cpus_per_actor),
                                           max_concurrent_calls_per_actor=CALLS_PER_ACTOR,
                                           enable_true_multi_threading=True),
        num_cpus=cpus_per_actor,  # fault tolerance: Ray Data's actor-pool defaults (see the module doc)
        runtime_env={"env_vars": _thread_limits(cpus_per_actor)})
    yield from reviewed.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0)


def _thread_limits(cpus: float) -> dict[str, str]:
    """TensorFlow and OpenMP threads per actor: its share of CPUs, so actors do not contend."""
    threads = str(max(1, int(cpus)))
    return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": threads}


def review_with_ray(output: ReviewOutput, session, images: str | os.PathLike, options: ReviewOptions,
                    address: str | None = None, *, trust: bool = False, preprocessing: str | None = None,
                    actors: int | None = None, progress: Callable[[int, int], None] | None = None,
                    verbose: bool = False, note: Callable[[str], None] | None = None) -> ReviewResult:
    """`batch --ray [ADDRESS]`: connect (or start Ray locally), review into `output`, disconnect.

    Every actor opens the session's model file with the same trust and preprocessing options.
    `note(text)` hears once how long Ray's start-up took (when the first rows arrive). Unless
    `verbose`, Ray's logging and warnings stay out of the terminal (see `connect`).
    """
    ray = import_ray()
    began = time.perf_counter()
    with warnings.catch_warnings():
        if not verbose:
            warnings.filterwarnings("ignore", module=r"ray(\.|$)")  # e.g. Ray Data's notes on its own settings
        joining = None if address in (None, "", "local") else address
        started = connect(joining, verbose=verbose)
        took = f" in {time.perf_counter() - began:.1f} s"
        how = (f"joined {joining}{took}" if joining else f"started{took}") if started else "already running"
        try:
            model = ModelSource(str(session.info.path), trust, preprocessing)
            return review_on_ray(output, images, options, model, tuple(session.info.class_names), actors=actors,
                                 progress=progress, on_table=_first_table(note, began, how))
        finally:
            if started:
                ray.shutdown()


def _first_table(note: Callable[[str], None] | None, began: float, how: str):
    """on_table for review_on_ray: at the first table, one note of Ray's start-up times."""
    if note is None:
        return None
    pending = [True]

    def on_table(_table: pa.Table) -> None:
        if pending:
            pending.clear()
            note(f"Ray: {how}, first rows after {time.perf_counter() - began:.1f} s "
                 "(each actor loads TensorFlow and the model once)")

    return on_table
