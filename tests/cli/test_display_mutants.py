"""When the window cannot open, the one line says why, on every kind of session (cli.display):
no display at all, X11 forced under Wayland, another OS, no xcb plugin, no ldd to ask."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli import display

NO_DISPLAY = ("no display to open the window on (DISPLAY is not set): run it in a desktop session or "
              "under xvfb-run, or use the headless commands (python main.py --help)")


def test_no_display_and_no_wayland_is_said_in_one_line():
    assert display.display_problem({}) == NO_DISPLAY
    assert display.display_problem({"QT_QPA_PLATFORM": "xcb"}) == NO_DISPLAY
    assert display.display_problem({"QT_QPA_PLATFORM": "xcb:foo", "WAYLAND_DISPLAY": "w"}) == NO_DISPLAY


def test_other_systems_and_platforms_are_left_to_qt(monkeypatch):
    assert display.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display.display_problem({"QT_QPA_PLATFORM": "wayland"}) is None
    monkeypatch.setattr(display.sys, "platform", "win32")
    assert display.display_problem({}) is None


def test_a_display_with_a_plugin_that_loads_is_fine(monkeypatch):
    monkeypatch.setattr(display, "loads", lambda plugin: True)
    monkeypatch.setattr(display, "missing_libraries", lambda plugin: pytest.fail("ldd asked for nothing"))
    assert display.display_problem({"DISPLAY": ":0"}, plugin=Path("libqxcb.so")) is None


def test_no_plugin_found_is_left_to_qt(monkeypatch):
    monkeypatch.setattr(display, "xcb_plugin", lambda: None)
    assert display.display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}) is None


def test_a_plugin_that_fails_for_no_library_reason_is_left_to_qt(monkeypatch):
    monkeypatch.setattr(display, "loads", lambda plugin: False)
    monkeypatch.setattr(display, "missing_libraries", lambda plugin: [])
    assert display.display_problem({"DISPLAY": ":0"}, plugin=Path("libqxcb.so")) is None


def test_missing_libraries_name_each_package_once(monkeypatch):
    monkeypatch.setattr(display, "loads", lambda plugin: False)
    monkeypatch.setattr(display, "missing_libraries", lambda plugin: ["libglib-2.0.so.0", "libgthread-2.0.so.0",
                                                                      "libweird.so.3"])
    assert display.display_problem({"DISPLAY": ":0"}, plugin=Path("p")) == (
        "the window needs system libraries that are missing: libglib-2.0.so.0, libgthread-2.0.so.0, libweird.so.3 "
        "(Debian/Ubuntu: sudo apt install libglib2.0-0 libweird.so.3)")


def test_library_names_map_to_their_packages():
    assert display.package_of("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert display.package_of("libxcb.so.1") == "libxcb1"  # not libxcb-*'s package
    assert display.package_of("libX11-xcb.so.1") == "libx11-xcb1"
    assert display.package_of("libunknown.so.2") == "libunknown.so.2"


def test_without_ldd_no_library_is_named(monkeypatch):
    def no_ldd(*args, **kwargs):
        raise FileNotFoundError("ldd")

    monkeypatch.setattr(display.subprocess, "run", no_ldd)
    assert display.missing_libraries(Path("/x/Qt/plugins/platforms/libqxcb.so")) == []

    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired("ldd", 20)

    monkeypatch.setattr(display.subprocess, "run", slow)
    assert display.missing_libraries(Path("/x/Qt/plugins/platforms/libqxcb.so")) == []


def test_ldd_is_asked_with_qts_own_libraries_on_the_path(monkeypatch):
    seen = {}

    def ldd(argv, **kwargs):
        seen.update(argv=argv, path=kwargs["env"]["LD_LIBRARY_PATH"], timeout=kwargs["timeout"])
        out = ("\tlibxcb-icccm.so.4 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n"
               "\tlibxcb-icccm.so.4 => not found\n   libfoo.so.1 => not found\n")
        return subprocess.CompletedProcess(argv, 0, out, "")

    monkeypatch.setattr(display.subprocess, "run", ldd)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lib")
    plugin = Path("/x/Qt/plugins/platforms/libqxcb.so")
    assert display.missing_libraries(plugin) == ["libxcb-icccm.so.4", "libfoo.so.1"]
    assert seen["argv"] == ["ldd", str(plugin)] and seen["path"] == f"/x/Qt/lib{__import__('os').pathsep}/opt/lib"
    monkeypatch.delenv("LD_LIBRARY_PATH")
    display.missing_libraries(plugin)
    assert seen["path"] == "/x/Qt/lib"


def test_a_library_that_does_not_load_is_reported_as_not_loading(tmp_path):
    broken = tmp_path / "libqxcb.so"
    broken.write_bytes(b"not a library")
    assert display.loads(broken) is False


def test_the_plugin_is_found_without_qt_or_not_at_all(monkeypatch):
    found = display.xcb_plugin()
    assert found is None or (found.name == "libqxcb.so" and found.parent.name == "platforms")
    monkeypatch.setattr(display.importlib.util, "find_spec", lambda name: None)
    assert display.xcb_plugin() is None


def test_the_sessions_own_environment_is_read_by_default(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert display.display_problem() == NO_DISPLAY
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display.display_problem() is None


def test_wayland_is_left_to_qt_unless_x11_is_forced(monkeypatch):
    monkeypatch.setattr(display, "loads", lambda plugin: False)
    monkeypatch.setattr(display, "missing_libraries", lambda plugin: ["libxcb-icccm.so.4"])
    both = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert display.display_problem(both, plugin=Path("p")) is None
    forced = display.display_problem({**both, "QT_QPA_PLATFORM": "xcb"}, plugin=Path("p"))
    assert forced.startswith("the window needs system libraries that are missing: libxcb-icccm.so.4")


def test_the_plugin_itself_is_loaded(monkeypatch):
    plugin = Path("/qt/libqxcb.so")
    monkeypatch.setattr(display, "loads", lambda path: path == plugin)
    monkeypatch.setattr(display, "missing_libraries", lambda path: ["libx.so.1"])
    assert display.display_problem({"DISPLAY": ":0"}, plugin=plugin) is None


def test_ldd_failing_does_not_hide_the_libraries_it_named(monkeypatch):
    def ldd(argv, **kwargs):
        result = subprocess.CompletedProcess(argv, 1, "\tlibxcb-xkb.so.1 => not found\n", "")
        if kwargs.get("check"):
            result.check_returncode()
        assert kwargs["timeout"] == 20  # a hung ldd does not hang the start
        return result

    monkeypatch.setattr(display.subprocess, "run", ldd)
    assert display.missing_libraries(Path("/x/Qt/plugins/platforms/libqxcb.so")) == ["libxcb-xkb.so.1"]


def test_a_pyside6_without_the_xcb_plugin_file_has_none(monkeypatch, tmp_path):
    spec = type("Spec", (), {"submodule_search_locations": [str(tmp_path)]})()
    monkeypatch.setattr(display.importlib.util, "find_spec", lambda name: spec)
    assert display.xcb_plugin() is None
    plugin = tmp_path / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    assert display.xcb_plugin() == plugin
