"""Running `cli.app.main` in-process in the command-line tests."""

from __future__ import annotations

from cli.app import main


def run(capture, *argv) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (`capture`: pytest's capsys or capfd)."""
    code = main([str(a) for a in argv])
    out, err = capture.readouterr()
    return code, out, err


def refused(capture, *argv) -> str:
    """Run a command that must fail cleanly; its one stderr line."""
    code, _out, err = run(capture, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err
