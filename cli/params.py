"""Command-line options and the README's parameter table, generated from the declarations.

Every registered method's `parameters` and the map combinations
(engine.maps.combine.COMBINATIONS) become options of `explain` and `batch`; nothing here
restates a name, a default or a range. Building the options imports engine.methods and
engine.maps.combine only, never TensorFlow. Run `python -m cli.params` to print the README
table, `python -m cli.params --update README.md` to rewrite it between its markers.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from engine.params import APPLIES_TO, Param
from engine.readme_section import ReadmeSection

DEST = "param__"  # argparse destinations: param__<name>, apart from the commands' own options
SECTION = ReadmeSection("params")


def method_declarations() -> dict[str, list[tuple[str, Param]]]:
    """Parameter name -> [(method name, its declaration)], over every registered method."""
    from engine.methods import METHODS

    found: dict[str, list[tuple[str, Param]]] = {}
    for name, cls in METHODS.items():
        for param in cls.parameters:
            found.setdefault(param.name, []).append((name, param))
    return found


def combinations() -> tuple[Param, ...]:
    """The declared map combinations."""
    from engine.maps.combine import COMBINATIONS

    return COMBINATIONS


def add_param_options(parser: argparse.ArgumentParser) -> None:
    """Add every method parameter and every combination to `parser`, with help from the
    declarations (owner, help, default, allowed values)."""
    methods = parser.add_argument_group(
        "method parameters", "each applies to the methods named in its help; the others refuse it")
    for declarations in method_declarations().values():
        help_text = "; ".join(f"{owner}: {_describe(p)}" for owner, p in declarations)
        _add(parser, methods, [p for _owner, p in declarations], help_text)
    group = parser.add_argument_group("combinations", "applied to the finished map, in the order listed")
    for param in combinations():
        prefix = "" if param.applies_to == "any" else f"{APPLIES_TO[param.applies_to]}: "
        _add(parser, group, [param], prefix + _describe(param))


def _describe(param: Param) -> str:
    allowed = "" if param.kind is bool else f"; {param.allowed()}"
    return f"{param.help} (default {param.default_text()}{allowed})"


def _add(parser: argparse.ArgumentParser, group, params: list[Param], help_text: str) -> None:
    first = params[0]
    options: dict[str, Any] = {"dest": DEST + first.name, "default": None, "help": help_text.replace("%", "%%")}
    if first.kind is bool:
        flag = first.option if not first.default else "--no-" + first.option[2:]
        options.update(action="store_const", const=not first.default)
    else:
        flag = first.option
        choices = sorted({c for p in params for c in p.choices})
        options.update(type=_parser_for({p.kind for p in params}), metavar=_metavar(first),
                       **({"choices": choices} if choices else {}))
    try:
        group.add_argument(flag, **options)
    except argparse.ArgumentError as exc:
        raise RuntimeError(f"the declared parameter {first.name} clashes with an option of "
                           f"{parser.prog}: rename the parameter ({exc})") from None


def _metavar(param: Param) -> str:
    return "{" + ",".join(param.choices) + "}" if param.choices else param.kind.__name__.upper()


def _parser_for(kinds: set[type]):
    """argparse type: a whole number where every declaration is int, else any number."""

    def parse(text: str) -> Any:
        if kinds == {str}:
            return text
        try:
            return int(text)
        except ValueError:
            pass
        if kinds == {int}:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None

    parse.__name__ = "number" if kinds != {str} else "text"
    return parse


def given_params(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters and combinations the user gave on the command line, by declared name."""
    return {key[len(DEST):]: value for key, value in vars(args).items()
            if key.startswith(DEST) and value is not None}


def request_params(args: argparse.Namespace, method: str) -> dict[str, Any]:
    """Every parameter of `method` and every combination, checked (given or default): the
    `params` an explanation records. One-line MethodError for a parameter the method does not
    have (naming the ones it has), a value out of range, or a combination that does not apply."""
    from engine.errors import MethodError
    from engine.maps.combine import check_request
    from engine.methods import METHODS

    if method not in METHODS:
        raise MethodError(f"unknown method '{method}'; choose from {', '.join(METHODS)}")
    values, options = check_request(METHODS[method], given_params(args))
    return {**values, **options}


# -- the README table ------------------------------------------------------------------------
def markdown_table() -> str:
    """The README's parameter table: method / parameter / option / default / allowed / help."""
    from engine.methods import METHODS

    rows = ["| method | parameter | option | default | allowed | help |", "|---|---|---|---|---|---|"]
    for name, cls in METHODS.items():
        rows += [_row(f"`{name}`", p) for p in cls.parameters]
    rows += [_row(f"combination ({APPLIES_TO[p.applies_to].short})", p) for p in combinations()]
    return "\n".join(rows)


def _row(owner: str, param: Param) -> str:
    cells = (owner, param.name, f"`{param.option}`", param.default_text(), param.allowed(), param.help)
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def readme_table(text: str) -> str:
    """The parameter table in the README's text."""
    return SECTION.read(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table, or with --update FILE rewrite it in FILE."""
    return SECTION.main("python -m cli.params", markdown_table, argv)


if __name__ == "__main__":
    raise SystemExit(main())
