"""Whether a window can open here, said in one line before Qt tries and aborts the process.

Qt cannot be asked first: creating the application on a Linux machine without a display,
with a DISPLAY no X server answers, or on X11 with a library of Qt's xcb plugin missing,
prints a paragraph about platform plugins (which names libxcb-cursor0 whatever is
missing) and aborts the interpreter (SIGABRT), which no `try` catches. So the conditions
Qt would fail on are checked here, before it starts; written by hand because Qt offers
no check that does not abort.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from sensorkit.errors import SensorkitError

# Qt 6's X11 requirements (doc.qt.io, "Qt for X11 Requirements"), as Debian and Ubuntu name them
XCB_PACKAGES = ("libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 "
                "libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0")  # fmt: skip


def ensure_screen(headless: bool = False) -> None:
    """Raise `SensorkitError` where Qt could not open a window. `headless`: the window is drawn
    for a screenshot and closes by itself, so without a display it is drawn off screen
    (`QT_QPA_PLATFORM=offscreen`) instead. A platform chosen in `QT_QPA_PLATFORM` is left to Qt."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        if headless:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            return
        raise SensorkitError("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): run it "
                             "in a desktop session; without one, --screenshot FILE.png --quit-after S draws it "
                             "off screen")  # fmt: skip
    if os.environ.get("WAYLAND_DISPLAY"):
        return  # Qt chooses its Wayland plugin, or falls back to X11 by itself
    missing = xcb_plugin_error()
    if missing:
        raise SensorkitError(f"Qt's X11 plugin cannot load ({missing}): install Qt's X11 libraries (Debian, Ubuntu: "
                             f"sudo apt install {XCB_PACKAGES})")  # fmt: skip
    if not x_display_opens():
        raise SensorkitError(f"cannot open the X display {os.environ['DISPLAY']!r} (no X server answers there: "
                             "over ssh, connect with -X, or run it in the machine's own desktop session)")


def xcb_plugin_error() -> str | None:
    """The dynamic loader's reason Qt's X11 platform plugin cannot load (a library it needs is
    missing), or None where it loads or is not where PySide6 keeps its plugins."""
    from PySide6.QtCore import QLibraryInfo

    plugin = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None
    try:
        ctypes.CDLL(str(plugin))  # loads what it links to, as Qt's plugin loader will
    except OSError as exc:
        return str(exc)  # e.g. "libxcb-icccm.so.4: cannot open shared object file: No such file or directory"
    return None


def x_display_opens() -> bool:
    """Whether the X server that DISPLAY names accepts a connection (libxcb's `xcb_connect`, as
    Qt's xcb plugin connects); True where libxcb itself cannot be loaded (Qt will say why)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(None, None)  # None: the display DISPLAY names
    try:
        return bool(conn) and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)
