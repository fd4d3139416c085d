"""Mutation testing of one package, some files, or the files a change touched (mutmut).

    python tests/mutation/run.py engine/trust            # a package (or several, or single files)
    python tests/mutation/run.py --changed main          # the engine/cli/gui files changed since main
    python tests/mutation/run.py --score engine/trust    # the score of the last run, nothing re-run
    python tests/mutation/run.py --again engine/trust    # the last run's survivors again, with today's tests

mutmut mutates only the chosen files and runs only the tests that name them: a file under
tests/ is selected when its text contains a chosen module's dotted name
(``engine.trust.verdict``) or, for a package, the package's (``engine.trust``). One worker by default, as the machine is shared. The score
leaves out the mutants listed in tests/mutation/equivalent.toml, each with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent.toml")
SOURCES = ("engine", "cli", "gui")
# Too slow for a mutant-by-mutant run (shipped-model figures over hundreds of images, Ray
# clusters, a million-row table); the behaviours they check have faster tests beside them.
SLOW_TESTS = {
    "tests/engine/test_demo_localisation.py", "tests/engine/test_demo_shortcut.py",
    "tests/engine/test_demo_model.py", "tests/engine/test_ray_cluster.py",
    "tests/engine/test_ray_review.py", "tests/engine/test_memory_bounds.py",
    "tests/test_bench_papers.py", "tests/test_bench_responsiveness.py", "tests/test_bench_smoke.py",
}
# Tests that reach a package through other modules without naming it.
EXTRA_TESTS = {
    "engine/maps": ["tests/engine/test_methods_properties.py", "tests/engine/test_gradcam.py",
                    "tests/engine/test_features.py", "tests/engine/test_methods_scope.py",
                    "tests/cli/test_cli.py"],
}
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # mutmut's exit codes for killed, timeout, type error
TIMEOUTS = {-24, 24, 152}
# Test files that reach TensorFlow (a model built or explained). Collecting them runs a TensorFlow
# op (engine.model.backend.load initialises the device), which starts its thread pools in the fork
# server; a quarter of the workers forked from it then hung on a lock and were counted as timeouts.
# For these the fork server imports TensorFlow and Keras only (PRELOAD) and each worker collects.
TF_HINTS = ("tests.models", "engine.model.backend", "engine.session", "import keras", "import tensorflow")
PRELOAD = Path(__file__).with_name("preload.txt")


def python_files(targets: list[str]) -> list[str]:
    """The .py files (relative, posix) of the given packages or files, __init__ included."""
    found: list[str] = []
    for target in targets:
        path = ROOT / target
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found += [f.relative_to(ROOT).as_posix() for f in files if f.suffix == ".py"]
    return [f for f in found if f.split("/")[0] in SOURCES]


def changed_files(since: str) -> list[str]:
    """The engine/cli/gui .py files changed since a git ref, still present."""
    out = subprocess.run(["git", "diff", "--name-only", since, "--", *SOURCES], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.split() if f.endswith(".py") and (ROOT / f).exists()]


def selected_tests(files: list[str], targets: list[str]) -> list[str]:
    """The test files that name one of the files' modules, or a package given as a target."""
    names = {f.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for f in files}
    names |= {t.strip("/").replace("/", ".") for t in targets if (ROOT / t).is_dir()}
    gui = any(f.startswith("gui/") for f in files)
    tests = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in SLOW_TESTS or (rel.startswith("tests/gui/") and not gui):
            continue
        if any(name in path.read_text(encoding="utf-8") for name in names):
            tests.append(rel)
    extra = [t for package, more in EXTRA_TESTS.items() for t in more
             if any(f.startswith(package + "/") for f in files)]
    return sorted(set(tests) | set(extra))


def equivalent_mutants() -> dict[str, str]:
    """Mutant name -> why it cannot change behaviour (tests/mutation/equivalent.toml)."""
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")) if EQUIVALENT.exists() else {}
    return {name: entry["reason"] for name, entry in data.items()}


def file_score(file: str, equivalent: dict[str, str]) -> tuple[int, int, int, list[str]]:
    """Killed, counted (checked minus equivalent), unchecked and surviving mutants of one file."""
    meta = ROOT / "mutants" / (file + ".meta")
    if not meta.exists():
        return 0, 0, 0, []
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    counted = {k: c for k, c in codes.items() if k not in equivalent and c is not None}
    unchecked = sum(1 for c in codes.values() if c is None)
    killed = sum(1 for c in counted.values() if c in KILLED)
    return killed, len(counted), unchecked, sorted(k for k, c in counted.items() if c not in KILLED)


def timed_out(file: str) -> int:
    """Mutants of one file that timed out (counted as killed: an endless loop is a caught bug)."""
    meta = ROOT / "mutants" / (file + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"].values() if meta.exists() else []
    return sum(1 for code in codes if code in TIMEOUTS)


def stale_equivalents(files: list[str], equivalent: dict[str, str]) -> list[str]:
    """Listed equivalent mutants of these files that the last run no longer made."""
    made: set[str] = set()
    modules = set()
    for file in files:
        meta = ROOT / "mutants" / (file + ".meta")
        if meta.exists():
            made |= set(json.loads(meta.read_text())["exit_code_by_key"])
            modules.add(file.removesuffix(".py").replace("/", "."))
    return sorted(n for n in equivalent if n.rsplit(".", 1)[0] in modules and n not in made)


def report(files: list[str]) -> float:
    """Print per-file and total scores (killed / checked non-equivalent mutants); the total in %."""
    equivalent = equivalent_mutants()
    total_killed = total = total_unchecked = 0
    for file in files:
        killed, counted, unchecked, left = file_score(file, equivalent)
        if counted:
            note = f" ({unchecked} not checked: run interrupted)" if unchecked else ""
            note += f" ({timed_out(file)} of them timeouts)" if timed_out(file) else ""
            print(f"{file}: {killed}/{counted} = {100 * killed / counted:.1f} %{note}")
            for name in left:
                print(f"    survived: {name}")
        total_killed, total, total_unchecked = total_killed + killed, total + counted, total_unchecked + unchecked
    for name in stale_equivalents(files, equivalent):
        print(f"    stale entry in {EQUIVALENT.name} (no such mutant now, review it): {name}")
    score = 100 * total_killed / total if total else 100.0
    print(f"TOTAL {total_killed}/{total} = {score:.1f} %"
          + (f", {total_unchecked} mutants not checked" if total_unchecked else "")
          + f" ({len(equivalent)} equivalent mutants listed in {EQUIVALENT.relative_to(ROOT)})")
    return score


def reaches_tensorflow(tests: list[str]) -> bool:
    """Whether one of these test files builds or explains a Keras model."""
    return any(hint in (ROOT / test).read_text(encoding="utf-8") for test in tests for hint in TF_HINTS)


def survivors(files: list[str]) -> list[str]:
    """The last run's surviving and unchecked mutants of these files (equivalent ones left out)."""
    equivalent = equivalent_mutants()
    names = []
    for file in files:
        meta = ROOT / "mutants" / (file + ".meta")
        if meta.exists():
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            names += [k for k, c in codes.items() if k not in equivalent and c not in KILLED]
    return sorted(names)


def exit_codes(files: list[str], root: Path | None = None) -> dict[str, dict[str, int | None]]:
    """Each file's mutant name -> exit code, as the last run left them in `root`/mutants."""
    codes = {}
    for file in files:
        meta = (root or ROOT) / "mutants" / (file + ".meta")
        if meta.exists():
            codes[file] = json.loads(meta.read_text())["exit_code_by_key"]
    return codes


def keep_earlier(earlier: dict[str, dict[str, int | None]], again: list[str]) -> None:
    """Put back the earlier exit codes of the mutants a run with `--again` did not run (mutmut
    writes a fresh record of every mutant of a file, the ones it skipped as not checked)."""
    rerun = set(again)
    for file, codes in earlier.items():
        meta = ROOT / "mutants" / (file + ".meta")
        data = json.loads(meta.read_text())
        data["exit_code_by_key"] = {name: data["exit_code_by_key"].get(name) if name in rerun else code
                                    for name, code in codes.items()}
        meta.write_text(json.dumps(data))


def run_mutmut(files: list[str], tests: list[str], workers: int, names: list[str] | None = None) -> None:
    """Run mutmut on these files with these tests, from a fresh mutants/ folder; or, given mutant
    `names`, only those in the last run's folder (mutmut adds the tests that are new to its stats)."""
    import mutmut.configuration as configuration

    if names is None:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    config = configuration.config()
    config.only_mutate = files
    config.pytest_add_cli_args_test_selection = tests
    # Mutated modules are large (every mutant of a file is in its copy): without byte-code
    # caching each worker compiles them again, about three times the cost of a mutant.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    if reaches_tensorflow(tests):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as tests/conftest.py: the import's native logs
        config.forkserver_warmup = configuration.ForkServerWarmup.IMPORT
        config.preload_modules_file = str(PRELOAD)
        # Each worker then collects its tests and builds its models (seconds, not counted in the
        # tests' measured durations); at least 100 s before a mutant is called a timeout.
        config.timeout_constant, config.timeout_multiplier = 20.0, 5.0
    from mutmut.__main__ import cli

    try:
        cli(["run", "--max-children", str(workers), *(names or [])], standalone_mode=False)
    except SystemExit as stop:
        if stop.code:
            raise


def show_mutants(names: list[str]) -> None:
    """Print the diff of each named mutant (mutmut show, with its file chosen for mutation)."""
    import mutmut.configuration as configuration

    config = configuration.config()
    config.only_mutate = sorted({name.split(".x")[0].replace(".", "/") + ".py" for name in names})
    from mutmut.__main__ import cli

    for name in names:
        cli(["show", name], standalone_mode=False)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run mutmut and print the score; exit 1 under --min."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="packages or .py files, e.g. engine/trust")
    parser.add_argument("--changed", metavar="REF", help="the files changed since this git ref")
    parser.add_argument("--score", action="store_true", help="only print the last run's score")
    parser.add_argument("--again", action="store_true",
                        help="re-run only the last run's surviving and unchecked mutants (tests added since count)")
    parser.add_argument("--workers", type=int, default=1, help="parallel mutants (default 1)")
    parser.add_argument("--tests", nargs="+", metavar="FILE",
                        help="run these test files instead of the ones naming the targets")
    parser.add_argument("--show", nargs="+", metavar="MUTANT", help="print these mutants' diffs and stop")
    parser.add_argument("--min", type=float, default=0.0, help="fail under this score (%%)")
    args = parser.parse_args(argv)
    if args.show:
        show_mutants(args.show)
        return 0
    files = python_files(args.targets) + (changed_files(args.changed) if args.changed else [])
    if not files:
        parser.error("nothing to mutate: give a package, a file or --changed REF")
    if not args.score:
        tests = args.tests or selected_tests(files, args.targets)
        names = survivors(files) if args.again else None
        if names == []:
            print("no surviving or unchecked mutants to run again")
        else:
            print(f"mutating {len(files)} files with {len(tests)} test files"
                  + (f" ({len(names)} mutants again)" if names else ""), flush=True)
            earlier = exit_codes(files)
            run_mutmut(files, tests, args.workers, names)
            if names:
                keep_earlier(earlier, names)
    return 0 if report(files) >= args.min else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
