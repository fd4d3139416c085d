"""The README's usage lines are the ones the parser generates (cli.usage): an option added to
a command shows in the README, or this test fails (issue 20, item 11: `batch` lacked --trust
and --ray)."""

from __future__ import annotations

from pathlib import Path

from cli import batch_cmd
from cli.usage import readme_usage, usage_lines

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_usage_matches_the_parser():
    assert readme_usage(README.read_text(encoding="utf-8")) == usage_lines(), (
        "the README's usage lines are stale: run `python -m cli.usage --update README.md`")


def test_every_option_of_batch_is_in_its_usage_line():
    batch = next(block for block in usage_lines().split("\npython main.py ") if block.startswith("batch"))
    for option in ("--trust", "--ray [ADDRESS]", "--verbose", "--resume", "--batch-size", "--target",
                   "--colormap", "METHOD PARAMETERS"):
        assert option in batch, option


def test_a_new_option_makes_the_readme_stale(monkeypatch):
    add = batch_cmd.add_commands

    def with_one_more(commands) -> None:
        add(commands)
        commands.choices["batch"].add_argument("--something-new", action="store_true")

    monkeypatch.setattr(batch_cmd, "add_commands", with_one_more)
    assert "--something-new" in usage_lines()
    assert readme_usage(README.read_text(encoding="utf-8")) != usage_lines()
