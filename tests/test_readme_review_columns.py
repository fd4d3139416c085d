"""The README's review column table is the one the declarations generate (engine.review.readme_columns)."""

from __future__ import annotations

from pathlib import Path

from engine.review.readme_columns import markdown_table, readme_table
from engine.review.rows import registry

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_matches_the_declarations():
    assert readme_table(README.read_text(encoding="utf-8")) == markdown_table(registry()), (
        "the README's review column table is stale: run `python -m engine.review.readme_columns --update README.md`")


def test_a_changed_declaration_makes_the_table_differ():
    """The comparison can fail: another help text shows in the generated table."""
    from dataclasses import replace

    changed = (replace(registry()[0], help="something else"), *registry()[1:])
    assert readme_table(README.read_text(encoding="utf-8")) != markdown_table(changed)
