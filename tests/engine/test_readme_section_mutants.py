"""The generated README sections (parameter table, review columns, usage): what the marker
reader returns, when it refuses, and what `--update` rewrites (and leaves alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.readme_section import ReadmeSection

PLAIN = ReadmeSection("table")
FENCED = ReadmeSection("usage", fenced=True)


def test_markers_are_html_comments_named_after_the_section() -> None:
    assert PLAIN.markers == ("<!-- table:start -->", "<!-- table:end -->")
    assert not PLAIN.fenced


def test_read_returns_the_body_between_the_markers_stripped() -> None:
    text = "intro\n<!-- table:start -->\n\n| a |\n| b |\n\n<!-- table:end -->\noutro"
    assert PLAIN.read(text) == "| a |\n| b |"


def test_read_of_a_fenced_section_drops_the_fence() -> None:
    text = "<!-- usage:start -->\n```\nconvscope --help\n```\n<!-- usage:end -->"
    assert FENCED.read(text) == "convscope --help"
    assert PLAIN.read(text.replace("usage", "table")) == "```\nconvscope --help\n```"


@pytest.mark.parametrize("text", [
    "no markers at all",
    "<!-- table:start --> only the start",
    "only the end <!-- table:end -->",
    "<!-- table:end --> reversed <!-- table:start -->",
])
def test_read_refuses_a_readme_without_the_section_in_one_line(text: str) -> None:
    with pytest.raises(ValueError, match=r"^the README has no <!-- table:start --> \.\.\. <!-- table:end --> section$"):
        PLAIN.read(text)


def test_read_accepts_a_section_at_the_very_start_and_an_empty_one() -> None:
    assert PLAIN.read("<!-- table:start --><!-- table:end -->") == ""


def test_update_rewrites_only_the_section_and_reports_the_change(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- table:start -->\nold\n<!-- table:end -->\nafter\n", encoding="utf-8")
    assert PLAIN.update(readme, "new") is True
    assert readme.read_text(encoding="utf-8") == "before\n<!-- table:start -->\nnew\n<!-- table:end -->\nafter\n"
    assert PLAIN.update(readme, "new") is False
    assert readme.read_text(encoding="utf-8") == "before\n<!-- table:start -->\nnew\n<!-- table:end -->\nafter\n"


def test_update_of_a_fenced_section_writes_the_fence(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- usage:start -->\n<!-- usage:end -->\n", encoding="utf-8")
    assert FENCED.update(readme, "line") is True
    assert readme.read_text(encoding="utf-8") == "<!-- usage:start -->\n```\nline\n```\n<!-- usage:end -->\n"
    assert FENCED.read(readme.read_text(encoding="utf-8")) == "line"


def test_update_keeps_non_ascii_text(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_bytes("é\n<!-- table:start -->\n<!-- table:end -->\n".encode())
    PLAIN.update(readme, "µ ≥ 75 %")
    assert readme.read_bytes().decode("utf-8") == "é\n<!-- table:start -->\nµ ≥ 75 %\n<!-- table:end -->\n"


def test_main_prints_the_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert PLAIN.main("gen", lambda: "body", []) == 0
    assert capsys.readouterr().out == "body\n"


def test_main_update_rewrites_the_file_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- table:start -->\nold\n<!-- table:end -->\n", encoding="utf-8")
    assert PLAIN.main("gen", lambda: "body", ["--update", str(readme)]) == 0
    assert capsys.readouterr().out == f"{readme}: table rewritten\n"
    assert PLAIN.read(readme.read_text(encoding="utf-8")) == "body"
    assert PLAIN.main("gen", lambda: "body", ["--update", str(readme)]) == 0
    assert capsys.readouterr().out == f"{readme}: table already up to date\n"


def test_main_help_names_the_program_and_the_section(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        PLAIN.main("gen-table", lambda: "body", ["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gen-table")
    assert "Print the README's table section, or with --update FILE rewrite it in FILE." in out
    assert "  --update FILE  rewrite the section between the markers of FILE" in out.splitlines()


def test_only_the_first_section_of_a_name_is_read_and_rewritten(tmp_path: Path) -> None:
    text = "<!-- table:start -->\nfirst\n<!-- table:end -->\nmiddle\n<!-- table:start -->\nsecond\n<!-- table:end -->\n"
    assert PLAIN.read(text) == "first"
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    assert PLAIN.update(readme, "new")
    assert readme.read_text(encoding="utf-8") == text.replace("first", "new")
