"""The README's parameter table is the one the declarations generate (cli.params)."""

from __future__ import annotations

from pathlib import Path

from cli.params import markdown_table, readme_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_matches_the_declarations():
    assert readme_table(README.read_text(encoding="utf-8")) == markdown_table(), (
        "the README's parameter table is stale: run `python -m cli.params --update README.md`")


def test_a_changed_declaration_makes_the_table_differ(monkeypatch):
    """The comparison can fail: a new default shows in the generated table."""
    from dataclasses import replace

    from engine.maps import combine

    changed = (replace(combine.COMBINATIONS[0], help="something else"), *combine.COMBINATIONS[1:])
    monkeypatch.setattr(combine, "COMBINATIONS", changed)
    assert readme_table(README.read_text(encoding="utf-8")) != markdown_table()
