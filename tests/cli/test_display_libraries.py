"""The start-up check names exactly the system libraries Qt's xcb platform plugin is missing,
and their packages, instead of letting Qt abort. The missing libraries are faked on a copy of
the real plugin whose needed-library names are edited to versions that do not exist."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from cli.display import PACKAGES, display_problem, loads, missing_libraries, package_of, xcb_plugin

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or xcb_plugin() is None
                                or shutil.which("ldd") is None, reason="Linux with PySide6's xcb plugin and ldd")

README = Path(__file__).resolve().parents[2] / "README.md"
X11 = {"DISPLAY": ":0"}


def _plugin_needing(tmp_path: Path, renames: dict[str, str]) -> Path:
    """A copy of libqxcb.so in a Qt-like tree, with needed names replaced (same length)."""
    data = xcb_plugin().read_bytes()
    for old, new in renames.items():
        assert len(old) == len(new) and data.count(old.encode() + b"\0") >= 1
        data = data.replace(old.encode() + b"\0", new.encode() + b"\0")
    target = tmp_path / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    (tmp_path / "Qt" / "lib").symlink_to(xcb_plugin().parents[2] / "lib")  # Qt's own libraries, as installed
    return target


def test_the_installed_plugin_loads_and_needs_nothing_here():
    assert loads(xcb_plugin()) and missing_libraries(xcb_plugin()) == []
    assert display_problem(X11) is None


def test_two_missing_libraries_are_named_with_their_packages(tmp_path):
    plugin = _plugin_needing(tmp_path, {"libxcb-icccm.so.4": "libxcb-icccm.so.9",
                                        "libxcb-keysyms.so.1": "libxcb-keysyms.so.9"})
    assert not loads(plugin)
    assert missing_libraries(plugin) == ["libxcb-icccm.so.9", "libxcb-keysyms.so.9"]
    problem = display_problem(X11, plugin=plugin)
    assert problem == ("the window needs system libraries that are missing: libxcb-icccm.so.9, "
                       "libxcb-keysyms.so.9 (Debian/Ubuntu: sudo apt install libxcb-icccm4 libxcb-keysyms1)")


def test_the_check_is_skipped_off_x11():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "no display" in display_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})


def test_every_library_the_plugin_needs_has_a_package_in_the_readme():
    """Each library libqxcb.so and libQt6XcbQpa name (outside Qt and libc) maps to a package,
    and the README's one `apt install` line lists them all."""
    needed = set()
    for library in (xcb_plugin(), xcb_plugin().parents[2] / "lib" / "libQt6XcbQpa.so.6"):
        needed |= {name.decode() for name in re.findall(rb"(lib[\w.+-]+\.so\.\d+)\0", library.read_bytes())}
    system = sorted(n for n in needed if not n.startswith(("libQt6", "libc.", "libm.", "libstdc++", "libgcc_s",
                                                           "libpthread", "libdl.", "librt.", "ld-linux")))
    assert "libxcb-icccm.so.4" in system and "libxkbcommon-x11.so.0" in system
    unknown = [n for n in system if package_of(n) == n]
    assert unknown == []
    line = next(line for line in README.read_text().splitlines() if "apt install" in line and "libxcb-icccm4" in line)
    assert sorted({package_of(n) for n in system} - set(line.split())) == []
    assert set(PACKAGES.values()) <= set(line.split())
