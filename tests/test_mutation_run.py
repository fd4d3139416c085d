"""tests/mutation/run.py's bookkeeping: which mutants `--again` runs and how the score counts them
(equivalent ones left out, timeouts counted as killed, unchecked ones reported, not scored)."""

from __future__ import annotations

import json

import pytest

from tests.mutation import run


@pytest.fixture
def last_run(tmp_path, monkeypatch):
    """A mutants/ folder with one file's exit codes, and one listed equivalent mutant."""
    monkeypatch.setattr(run, "ROOT", tmp_path)
    equivalent = tmp_path / "equivalent.toml"
    equivalent.write_text('["pkg.mod.x_f__mutmut_4"]\nmutation = "a -> b"\nreason = "the same"\n', encoding="utf-8")
    monkeypatch.setattr(run, "EQUIVALENT", equivalent)
    meta = tmp_path / "mutants" / "pkg" / "mod.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"pkg.mod.x_f__mutmut_1": 1, "pkg.mod.x_f__mutmut_2": 0, "pkg.mod.x_f__mutmut_3": None,
             "pkg.mod.x_f__mutmut_4": 0, "pkg.mod.x_f__mutmut_5": -24, "pkg.mod.x_f__mutmut_6": 33}
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    return tmp_path


@pytest.mark.usefixtures("last_run")
def test_again_runs_the_survivors_and_the_unchecked_but_not_the_killed_or_equivalent():
    assert run.survivors(["pkg/mod.py", "pkg/absent.py"]) == ["pkg.mod.x_f__mutmut_2", "pkg.mod.x_f__mutmut_3",
                                                               "pkg.mod.x_f__mutmut_6"]


@pytest.mark.usefixtures("last_run")
def test_the_score_counts_killed_and_timeouts_over_the_checked_non_equivalent(capsys):
    killed, counted, unchecked, left = run.file_score("pkg/mod.py", run.equivalent_mutants())
    assert (killed, counted, unchecked) == (2, 4, 1)
    assert left == ["pkg.mod.x_f__mutmut_2", "pkg.mod.x_f__mutmut_6"]
    assert run.report(["pkg/mod.py"]) == 50.0
    assert "1 of them timeouts" in capsys.readouterr().out


@pytest.mark.usefixtures("last_run")
def test_a_run_again_keeps_the_earlier_codes_of_the_mutants_it_did_not_run(tmp_path):
    earlier = run.exit_codes(["pkg/mod.py"])
    meta = tmp_path / "mutants" / "pkg" / "mod.py.meta"
    fresh = {name: None for name in earlier["pkg/mod.py"]} | {"pkg.mod.x_f__mutmut_2": 1, "pkg.mod.x_f__mutmut_3": 0}
    meta.write_text(json.dumps({"exit_code_by_key": fresh}), encoding="utf-8")  # as mutmut leaves it
    run.keep_earlier(earlier, ["pkg.mod.x_f__mutmut_2", "pkg.mod.x_f__mutmut_3", "pkg.mod.x_f__mutmut_6"])
    codes = run.exit_codes(["pkg/mod.py"])["pkg/mod.py"]
    assert codes == {"pkg.mod.x_f__mutmut_1": 1, "pkg.mod.x_f__mutmut_2": 1, "pkg.mod.x_f__mutmut_3": 0,
                     "pkg.mod.x_f__mutmut_4": 0, "pkg.mod.x_f__mutmut_5": -24, "pkg.mod.x_f__mutmut_6": None}
