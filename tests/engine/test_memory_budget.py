"""How much memory one chunk may use (engine.memory), without a model: the /proc/meminfo
reading, the sysconf fallback, the bounds and the environment override."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import memory

MiB = 2**20


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENV_BUDGET, raising=False)


def _meminfo(tmp_path: Path, text: str) -> str:
    path = tmp_path / "meminfo"
    path.write_text(text, encoding="ascii")
    return str(path)


def test_constants_are_the_documented_ones() -> None:
    assert (memory.MAX_BUDGET, memory.MIN_BUDGET, memory.DEFAULT_BUDGET) == (1024 * MiB, 16 * MiB, 256 * MiB)
    assert memory.FRACTION == 0.10
    assert memory.ENV_BUDGET == "CONVSCOPE_MEMORY_BUDGET_MB"
    assert memory.MEMINFO == "/proc/meminfo"


def test_mem_available_is_found_among_other_lines_in_kilobytes(tmp_path: Path) -> None:
    path = _meminfo(tmp_path, "MemTotal:  8000000 kB\nMemFree: 100 kB\nMemAvailable:    2000000 kB\nCached: 5 kB\n")
    assert memory._meminfo_available(path) == 2_000_000 * 1024
    assert memory.available_bytes(path) == 2_000_000 * 1024


def test_mem_available_unit_is_case_insensitive_and_defaults_to_kilobytes(tmp_path: Path) -> None:
    assert memory._meminfo_available(_meminfo(tmp_path, "MemAvailable: 10 KB\n")) == 10 * 1024
    assert memory._meminfo_available(_meminfo(tmp_path, "MemAvailable: 10\n")) == 10 * 1024
    assert memory._meminfo_available(_meminfo(tmp_path, "MemAvailable: 10 B\n")) == 10


def test_a_similar_key_is_not_mem_available(tmp_path: Path) -> None:
    path = _meminfo(tmp_path, "XMemAvailable: 99 kB\nMemAvailableX 98 kB\n")
    assert memory._meminfo_available(path) is None


@pytest.mark.parametrize("text", ["MemAvailable: lots kB\n", "MemAvailable:\n", "MemAvailable: 1.5 kB\n"])
def test_an_unreadable_value_gives_none_not_an_error(tmp_path: Path, text: str) -> None:
    assert memory._meminfo_available(_meminfo(tmp_path, text)) is None


def test_non_ascii_bytes_in_the_file_do_not_hide_the_value(tmp_path: Path) -> None:
    path = tmp_path / "meminfo"
    path.write_bytes(b"Name: \xff\xfe\nMemAvailable: 7 kB\n")
    assert memory._meminfo_available(str(path)) == 7 * 1024


def test_budget_is_a_tenth_of_available_memory_between_the_bounds(tmp_path: Path) -> None:
    def budget(kilobytes: int) -> int:
        return memory.budget_bytes(_meminfo(tmp_path, f"MemAvailable: {kilobytes} kB\n"))

    assert budget(4_000_000) == int(4_000_000 * 1024 * 0.1)
    assert budget(16 * 1024 * 10) == 16 * MiB  # exactly the lower bound
    assert budget(16 * 1024 * 10 - 10) == 16 * MiB  # below it: raised to the bound
    assert budget(1024 * 1024 * 10) == 1024 * MiB  # exactly the upper bound
    assert budget(1024 * 1024 * 10 + 10) == 1024 * MiB
    assert isinstance(budget(4_000_001), int)


def test_sysconf_needs_both_pages_and_page_size_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    def with_values(pages: int, size: int) -> int | None:
        values = {"SC_AVPHYS_PAGES": pages, "SC_PAGE_SIZE": size}
        monkeypatch.setattr(memory.os, "sysconf", lambda name: values[name])
        return memory._sysconf_available()

    assert with_values(3, 4096) == 3 * 4096
    assert with_values(1, 1) == 1
    assert with_values(0, 4096) is None
    assert with_values(3, 0) is None
    assert with_values(-1, 4096) is None


@pytest.mark.parametrize("error", [AttributeError, ValueError, OSError])
def test_sysconf_errors_give_none(monkeypatch: pytest.MonkeyPatch, error: type[Exception]) -> None:
    def fail(name: str) -> int:
        raise error(name)

    monkeypatch.setattr(memory.os, "sysconf", fail)
    assert memory._sysconf_available() is None


def test_meminfo_wins_over_sysconf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.os, "sysconf", lambda name: 1)
    assert memory.available_bytes(_meminfo(tmp_path, "MemAvailable: 5 kB\n")) == 5 * 1024
    assert memory.available_bytes(str(tmp_path / "absent")) == 1


def test_default_budget_reads_proc_meminfo(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(memory, "_meminfo_available", lambda path: seen.append(path) or 40 * 1024 * MiB)
    assert memory.budget_bytes() == memory.MAX_BUDGET
    assert memory.available_bytes() == 40 * 1024 * MiB
    assert seen == ["/proc/meminfo", "/proc/meminfo"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2", 2 * MiB), (" 0.5 ", MiB // 2), ("3000", 3000 * MiB), ("1e-9", 1),
])
def test_env_override_in_megabytes_wins_uncapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 text: str, expected: int) -> None:
    monkeypatch.setenv(memory.ENV_BUDGET, text)
    assert memory.budget_bytes(_meminfo(tmp_path, "MemAvailable: 4000000 kB\n")) == expected


@pytest.mark.parametrize("text", ["", "   ", "0", "-5", "many"])
def test_an_empty_or_nonsense_override_falls_back_to_the_measure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 text: str) -> None:
    monkeypatch.setenv(memory.ENV_BUDGET, text)
    assert memory._env_budget() is None
    assert memory.budget_bytes(_meminfo(tmp_path, "MemAvailable: 4000000 kB\n")) == int(4_000_000 * 1024 * 0.1)
