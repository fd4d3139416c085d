"""Argument parsing and dispatch; bad input ends with exit 2 and one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from .common import check_inputs

# Imported only for a parser with every command: the window's start (`gui`, the default) needs
# none of them, nor the parameter declarations and numpy they bring (pyqtgraph brings numpy later).
COMMAND_MODULES = ("cli.inspect_cmds", "cli.explain_cmd", "cli.batch_cmd", "cli.features_cmd", "cli.sanity_cmd",
                   "cli.compare_cmd")
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser(full: bool = True) -> argparse.ArgumentParser:
    """The command-line parser; `full=False` has only `gui`, so the window's start does not wait
    for the method registry and the other commands' options."""
    parser = _Parser(prog="convscope", description="Look inside convolutional image classifiers.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    gui = commands.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", help="model to open (default: the last one, else the bundled demo)")
    gui.add_argument("--images", help="image folder to open (default: the last one, else the demo images)")
    gui.add_argument("--trust-model", action="store_true", help="load a model that safe mode refuses")
    gui.set_defaults(run=run_gui)
    for module in command_modules() if full else ():
        module.add_commands(commands)
    return parser


def command_modules() -> list[ModuleType]:
    """The modules of the commands other than `gui`, in the order of `--help` (imported now)."""
    return [importlib.import_module(name) for name in COMMAND_MODULES]


def run_gui(args: argparse.Namespace) -> int:
    """Open the window (TensorFlow loads in the engine's process, while the window shows)."""
    from .display import display_problem

    problem = display_problem()
    if problem:
        sys.stderr.write(f"convscope: error: {problem}\n")
        return EXIT_BAD_INPUT
    from gui.app import run_window

    return run_window(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; ConvScope errors become one line on stderr and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = argv or ["gui"]
        args = build_parser(full=argv[0] != "gui").parse_args(argv)
    except SystemExit as exc:  # usage errors (one line, see _Parser) and --help: return, not raise
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    from engine.errors import Cancelled, ConvScopeError

    try:
        check_inputs(args)  # a typo in a path is refused in a second, not after TensorFlow loaded
        return args.run(args)
    except ConvScopeError as exc:
        sys.stderr.write(f"convscope: error: {exc}\n")
        return EXIT_BAD_INPUT
    except Cancelled:
        sys.stderr.write("convscope: cancelled\n")
        return 130
    except KeyboardInterrupt:
        sys.stderr.write("convscope: interrupted\n")
        return 130
