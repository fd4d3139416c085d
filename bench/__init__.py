"""ConvScope benchmarks: each method next to the seeds' straightforward implementation and
tf-keras-vis, measured side by side in one process. Run `python -m bench [--quick] [--json]`."""

from __future__ import annotations

from .cases import run_all
from .harness import Result, Settings, machine, measure

__all__ = ["Result", "Settings", "machine", "measure", "run_all"]
