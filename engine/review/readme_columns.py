"""The README's table of review columns, generated from their declarations
(engine.review.columns): `python -m engine.review.readme_columns --update README.md`
rewrites it between its markers; tests/test_readme_review_columns.py fails while it is stale."""

from __future__ import annotations

from collections.abc import Sequence

from engine.readme_section import ReadmeSection
from engine.review.columns import Column

SECTION = ReadmeSection("review-columns")


def markdown_table(columns: Sequence[Column]) -> str:
    """The README's table: column / type / window / summed up as / what it is."""
    lines = ["| column | type | window | per label (summary.json) | what it is |", "|---|---|---|---|---|"]
    for item in columns:
        summed = ""
        if item.aggregate is not None:
            place = "trust." if item.trust else ""
            summed = f"mean as `{place}{item.aggregate.key}`"
        help = item.help + (" (`--trust`)" if item.trust else "")
        cells = (f"`{item.name}`", item.type_name(), item.header, summed, help)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def readme_table(text: str) -> str:
    """The review column table in the README's text."""
    return SECTION.read(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the review column table, or with --update FILE rewrite it in FILE."""
    from engine.review.rows import registry

    return SECTION.main("python -m engine.review.readme_columns", lambda: markdown_table(registry()), argv)


if __name__ == "__main__":
    raise SystemExit(main())
