"""Before a window opens: where Qt could not open one, one clear line instead of Qt's abort."""

import ctypes
import sys

import pytest

pytest.importorskip("PySide6", reason="the GUI packages are not installed (pip install 'sensorkit[gui]')")

import sensorkit.gui.screen as screen  # noqa: E402
from sensorkit.cli import main  # noqa: E402
from sensorkit.errors import SensorkitError  # noqa: E402


@pytest.fixture
def linux_without_display(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_display_the_window_is_refused_or_drawn_off_screen(linux_without_display):
    with pytest.raises(SensorkitError, match="no display to open the window on"):
        screen.ensure_screen()
    screen.ensure_screen(headless=True)  # a screenshot that closes itself: drawn off screen
    assert screen.os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_a_platform_chosen_or_another_system_is_left_to_qt(linux_without_display):
    """A platform set in QT_QPA_PLATFORM, or a system other than Linux: no check runs (here every
    one would refuse: a DISPLAY nobody answers, the X11 plugin unloadable) and the environment
    is left as it was, a screenshot's included."""
    def refuse():
        raise AssertionError("a check ran")

    linux_without_display.setattr(screen, "xcb_plugin_error", refuse)
    linux_without_display.setattr(screen, "x_display_opens", refuse)
    linux_without_display.setenv("DISPLAY", ":93")
    linux_without_display.setenv("QT_QPA_PLATFORM", "xcb")
    screen.ensure_screen()
    assert screen.os.environ["QT_QPA_PLATFORM"] == "xcb"
    linux_without_display.delenv("QT_QPA_PLATFORM")
    linux_without_display.delenv("DISPLAY")
    linux_without_display.setattr(sys, "platform", "win32")
    screen.ensure_screen(headless=True)  # no display on Linux's terms, yet not drawn off screen
    assert "QT_QPA_PLATFORM" not in screen.os.environ


def test_a_missing_x11_library_is_named_with_the_packages_to_install(linux_without_display):
    """The libraries of Qt's xcb plugin (libxcb-icccm4 and libxcb-keysyms1 were missing on this
    machine's Debian): Qt itself names libxcb-cursor0 whatever is missing, then aborts."""
    linux_without_display.setenv("DISPLAY", ":0")

    def cdll(name, *a, **k):
        raise OSError("libxcb-icccm.so.4: cannot open shared object file: No such file or directory")

    linux_without_display.setattr(screen.ctypes, "CDLL", cdll)
    if screen.xcb_plugin_error() is None:
        pytest.skip("PySide6 keeps no xcb plugin here")
    with pytest.raises(SensorkitError, match=r"libxcb-icccm\.so\.4.*sudo apt install libxcb-cursor0 libxcb-icccm4"):
        screen.ensure_screen()


def test_a_display_no_x_server_answers_is_said(linux_without_display):
    try:
        ctypes.CDLL("libxcb.so.1")
    except OSError:
        pytest.skip("libxcb is not installed here")
    linux_without_display.setenv("DISPLAY", ":93")  # nothing listens there
    assert not screen.x_display_opens()
    linux_without_display.setattr(screen, "xcb_plugin_error", lambda: None)
    with pytest.raises(SensorkitError, match="cannot open the X display ':93'"):
        screen.ensure_screen()


def test_replay_without_a_display_is_one_line_and_a_screenshot_still_works(linux_without_display, tmp_path, capsys):
    path = tmp_path / "s.xdf"
    assert main(["simulate", "single_leg_squat", "-o", str(path), "--seed", "0"]) == 0
    capsys.readouterr()
    assert main(["replay", str(path)]) != 0  # Qt would abort the interpreter here
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no display to open the window on" in err
    shot = tmp_path / "s.png"
    assert main(["replay", str(path), "--speed", "8", "--screenshot", str(shot), "--quit-after", "1"]) == 0
    assert shot.stat().st_size > 1000
