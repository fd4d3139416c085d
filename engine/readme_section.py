"""A README section generated from declarations (the parameter table, the review columns, the
command-line usage): the text between two HTML comment markers, read for the tests that fail
when it is stale and rewritten by each generator's `--update README.md`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReadmeSection:
    """The section between `<!-- {name}:start -->` and `<!-- {name}:end -->`; `fenced` sections
    sit in a code fence."""

    name: str
    fenced: bool = False

    @property
    def markers(self) -> tuple[str, str]:
        return f"<!-- {self.name}:start -->", f"<!-- {self.name}:end -->"

    def read(self, text: str) -> str:
        """The section's body in `text` (without markers and fence), stripped."""
        start_marker, end_marker = self.markers
        start, end = text.find(start_marker), text.find(end_marker)
        if start < 0 or end < start:
            raise ValueError(f"the README has no {start_marker} ... {end_marker} section")
        body = text[start + len(start_marker):end].strip()
        return body.removeprefix("```").removesuffix("```").strip() if self.fenced else body

    def update(self, path: Path, body: str) -> bool:
        """Rewrite the section of the file at `path` with `body`; True if it changed."""
        text = path.read_text(encoding="utf-8")
        if self.read(text) == body:
            return False
        start_marker, end_marker = self.markers
        start, end = text.find(start_marker) + len(start_marker), text.find(end_marker)
        shown = f"```\n{body}\n```" if self.fenced else body
        path.write_text(f"{text[:start]}\n{shown}\n{text[end:]}", encoding="utf-8")
        return True

    def main(self, prog: str, render: Callable[[], str], argv: Sequence[str] | None = None) -> int:
        """The generator's command line: print the section, or with --update FILE rewrite it there."""
        parser = argparse.ArgumentParser(prog=prog, description=f"Print the README's {self.name} section, "
                                         "or with --update FILE rewrite it in FILE.")
        parser.add_argument("--update", metavar="FILE", help="rewrite the section between the markers of FILE")
        args = parser.parse_args(argv)
        body = render()
        if args.update:
            changed = self.update(Path(args.update), body)
            print(f"{args.update}: {self.name} {'rewritten' if changed else 'already up to date'}")
        else:
            sys.stdout.write(body + "\n")
        return 0
