"""The README's table of review columns, generated from their declarations
(engine.review.columns): `python -m engine.review.readme_columns --update README.md`
rewrites it between its markers; tests/test_readme_review_columns.py fails while it is stale."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from engine.review.columns import Column

TABLE_START, TABLE_END = "<!-- review-columns:start -->", "<!-- review-columns:end -->"


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
    """The table between the README's markers (without them), stripped."""
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {TABLE_START} ... {TABLE_END} section")
    return text[start + len(TABLE_START):end].strip()


def update_readme(path: Path, table: str) -> bool:
    """Rewrite the table between the markers of `path`; True if it changed."""
    text = path.read_text(encoding="utf-8")
    if readme_table(text) == table:
        return False
    start, end = text.find(TABLE_START) + len(TABLE_START), text.find(TABLE_END)
    path.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Print the review column table, or with --update FILE rewrite it in FILE."""
    from engine.review.rows import registry

    parser = argparse.ArgumentParser(prog="python -m engine.review.readme_columns", description=main.__doc__)
    parser.add_argument("--update", metavar="FILE", help="rewrite the table between the markers of FILE")
    args = parser.parse_args(argv)
    table = markdown_table(registry())
    if args.update:
        changed = update_readme(Path(args.update), table)
        print(f"{args.update}: {'table rewritten' if changed else 'table already up to date'}")
    else:
        sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
