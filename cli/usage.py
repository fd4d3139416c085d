"""The README's usage lines, generated from the command-line parser (as cli.params generates
the parameter table): `python -m cli.usage --update README.md`; a test fails when they are stale."""

from __future__ import annotations

import argparse
import copy
from collections.abc import Sequence

from engine.readme_section import ReadmeSection

SECTION = ReadmeSection("usage", fenced=True)
WIDTH = 100  # fixed, so the lines do not depend on the terminal that generates them
PARAMS_NOTE = "[METHOD PARAMETERS]"  # the method parameters and combinations: see the README's table


def usage_lines() -> str:
    """`python main.py COMMAND ...` for every command, every option but the method parameters
    and combinations (summed up as METHOD PARAMETERS where a command takes them)."""
    from cli.app import build_parser
    from cli.params import DEST

    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public way
    blocks = []
    for name, parser in commands.items():
        actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]  # noqa: SLF001
        own = [_named(a) for a in actions if not a.dest.startswith(DEST)]
        formatter = argparse.HelpFormatter(f"python main.py {name}", width=WIDTH)
        formatter.add_usage(None, own, [], prefix="")
        text = formatter.format_help().strip()
        if len(own) < len(actions):
            text = _append(text, PARAMS_NOTE, len(f"python main.py {name} "))
        blocks.append(text)
    return "\n".join(blocks)


def _named(action: argparse.Action) -> argparse.Action:
    """The action with `--class CLASS` rather than argparse's `CLASS_` (from dest="class_")."""
    if action.metavar is None and action.choices is None and action.dest.endswith("_"):
        action = copy.copy(action)
        action.metavar = action.dest.rstrip("_").upper()
    return action


def _append(text: str, word: str, indent: int) -> str:
    """`word` after the last line of a usage, on a new line when it would pass WIDTH."""
    last = text.rsplit("\n", 1)[-1]
    return f"{text} {word}" if len(last) + 1 + len(word) <= WIDTH else f"{text}\n{' ' * indent}{word}"


def readme_usage(text: str) -> str:
    """The usage lines in the README's text."""
    return SECTION.read(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the usage lines, or with --update FILE rewrite them in FILE."""
    return SECTION.main("python -m cli.usage", usage_lines, argv)


if __name__ == "__main__":
    raise SystemExit(main())
