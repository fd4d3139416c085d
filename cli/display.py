"""Whether the window can open here, checked before Qt would abort the process with a
screenful of plugin messages: no display over SSH, or system libraries that Qt's xcb platform
plugin links against missing (a minimal Debian desktop has libxcb-cursor0 but not always
libxcb-icccm4 or libxcb-keysyms1).

The check loads the plugin the way Qt would (dlopen); only when that fails does it ask `ldd`
which of the libraries the plugin needs, directly or through Qt's own libraries, are not found,
and names their Debian/Ubuntu packages.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

# What Qt's xcb platform plugin (libqxcb.so and libQt6XcbQpa.so.6) and Qt's GUI libraries link
# against, by library name -> Debian/Ubuntu package (the README's `apt install` line).
PACKAGES = {
    "libxcb-cursor": "libxcb-cursor0", "libxcb-icccm": "libxcb-icccm4", "libxcb-keysyms": "libxcb-keysyms1",
    "libxcb-image": "libxcb-image0", "libxcb-render-util": "libxcb-render-util0", "libxcb-util": "libxcb-util1",
    "libxcb-randr": "libxcb-randr0", "libxcb-shape": "libxcb-shape0", "libxcb-shm": "libxcb-shm0",
    "libxcb-sync": "libxcb-sync1", "libxcb-xfixes": "libxcb-xfixes0", "libxcb-render": "libxcb-render0",
    "libxcb-xkb": "libxcb-xkb1", "libxcb": "libxcb1", "libX11-xcb": "libx11-xcb1", "libX11": "libx11-6",
    "libxkbcommon-x11": "libxkbcommon-x11-0", "libxkbcommon": "libxkbcommon0", "libGL": "libgl1",
    "libEGL": "libegl1", "libfontconfig": "libfontconfig1", "libfreetype": "libfreetype6",
    "libglib-2.0": "libglib2.0-0", "libgthread-2.0": "libglib2.0-0", "libdbus-1": "libdbus-1-3",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def display_problem(environ: dict[str, str] | None = None, plugin: Path | None = None) -> str | None:
    """A one-line reason the window cannot open on this Linux session, or None."""
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return None
    if not env.get("DISPLAY") and (platform or not env.get("WAYLAND_DISPLAY")):
        return ("no display to open the window on (DISPLAY is not set): run it in a desktop session or "
                "under xvfb-run, or use the headless commands (python main.py --help)")
    if env.get("WAYLAND_DISPLAY") and not platform:
        return None  # Qt picks its Wayland plugin
    plugin = plugin or xcb_plugin()
    missing = [] if plugin is None or loads(plugin) else missing_libraries(plugin)
    if not missing:
        return None
    packages = list(dict.fromkeys(package_of(name) for name in missing))
    return (f"the window needs system libraries that are missing: {', '.join(missing)} "
            f"(Debian/Ubuntu: sudo apt install {' '.join(packages)})")


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def loads(plugin: Path) -> bool:
    """Whether the plugin and every library it needs load (dlopen, lazy binding)."""
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path) -> list[str]:
    """The libraries `ldd` reports as not found for the plugin, Qt's own folder on the search
    path as Qt's loader has it; empty when ldd is unavailable."""
    qt_lib = plugin.parent.parent.parent / "lib"
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(p for p in (str(qt_lib), os.environ.get(
        "LD_LIBRARY_PATH", "")) if p)}
    try:
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, env=env, timeout=20,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(NOT_FOUND.findall(result.stdout)))


def package_of(soname: str) -> str:
    """The Debian/Ubuntu package of a library file name ('libxcb-icccm.so.4' -> 'libxcb-icccm4')."""
    stem = soname.split(".so", 1)[0]
    return PACKAGES.get(stem, soname)
