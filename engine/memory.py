"""How much memory one chunk of a long computation may use, from the memory available now.

No psutil: Linux reads ``MemAvailable`` from /proc/meminfo, other POSIX systems ask
``os.sysconf`` for the free physical pages, and anything else gets a conservative default.
The budget is a tenth of what is available, at most 1 GiB, at least 16 MiB; the
environment variable ``CONVSCOPE_MEMORY_BUDGET_MB`` (megabytes, may be fractional)
overrides it, for tests and for machines where the guess is wrong.
"""

from __future__ import annotations

import os

ENV_BUDGET = "CONVSCOPE_MEMORY_BUDGET_MB"
MEMINFO = "/proc/meminfo"
MiB = 2**20
MAX_BUDGET = 1024 * MiB  # never more than this per chunk, however much is free
MIN_BUDGET = 16 * MiB  # even a nearly full machine gets chunks of a sensible size
DEFAULT_BUDGET = 256 * MiB  # when the available memory cannot be read
FRACTION = 0.10  # of the available memory


def _meminfo_available(path: str) -> int | None:
    """MemAvailable in bytes from a /proc/meminfo-style file; None if absent or unreadable."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    fields = line.split()
                    unit = fields[2].lower() if len(fields) > 2 else "kb"
                    return int(fields[1]) * (1024 if unit == "kb" else 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sysconf_available() -> int | None:
    """Free physical pages times the page size (POSIX); None where sysconf cannot tell."""
    try:
        pages, page_size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def available_bytes(meminfo: str = MEMINFO) -> int | None:
    """Memory available to this process now, in bytes, or None when it cannot be read."""
    found = _meminfo_available(meminfo)
    return found if found is not None else _sysconf_available()


def _env_budget() -> int | None:
    text = os.environ.get(ENV_BUDGET, "").strip()
    if not text:
        return None
    try:
        megabytes = float(text)
    except ValueError:
        return None  # a typo must not break explanations: fall back to the measured budget
    return max(1, int(megabytes * MiB)) if megabytes > 0 else None


def budget_bytes(meminfo: str = MEMINFO) -> int:
    """Bytes one chunk may use: the env override, else 10% of the available memory within
    [MIN_BUDGET, MAX_BUDGET], else DEFAULT_BUDGET. Read on every call (memory changes)."""
    override = _env_budget()
    if override is not None:
        return override
    available = available_bytes(meminfo)
    if available is None:
        return DEFAULT_BUDGET
    return int(min(MAX_BUDGET, max(MIN_BUDGET, available * FRACTION)))
