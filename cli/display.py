"""Whether the window can open here, checked before Qt would abort the process with a
screenful of plugin messages (no display over SSH, or Qt's missing xcb-cursor library)."""

from __future__ import annotations

import ctypes.util
import os
import sys


def display_problem(environ: dict[str, str] | None = None) -> str | None:
    """A one-line reason the window cannot open on this Linux session, or None."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display to open the window on (DISPLAY is not set): run it in a desktop session or "
                "under xvfb-run, or use the headless commands (python main.py --help)")
    if not env.get("WAYLAND_DISPLAY") and ctypes.util.find_library("xcb-cursor") is None:
        return ("the window needs the system library libxcb-cursor0 "
                "(Debian/Ubuntu: sudo apt install libxcb-cursor0)")
    return None
