"""A serial device without hardware: a pseudo-terminal with a simulated firmware on the far end.

The host side is an ordinary serial port (its path, or a stable symlink to it, goes
into `serial://PATH?protocol=...`), so the real serial driver, protocol decoders and
recorder run exactly as with a unit on a USB cable. `unplug()` closes the terminal
as a pulled cable would, and its symlink goes with it as udev's links go with a
USB adapter, and brings the device back, on a new terminal behind the same symlink,
after a while; the firmware keeps sampling meanwhile, so what it
produced while unplugged is lost, as on a real unit. POSIX only (`os.openpty`).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Protocol


class Firmware(Protocol):
    """The far end: takes the host's bytes, gives the bytes it sends (see SimFirmware)."""

    finished: bool

    def write(self, data: bytes) -> None: ...
    def read(self, timeout: float) -> bytes: ...


class VirtualPort:
    def __init__(self, firmware: Firmware, link: str | None = None) -> None:
        self.firmware = firmware
        self.link = link
        self.path = ""
        self._master = self._slave = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._replug: threading.Timer | None = None
        self.dropped_bytes = 0  # sent while nobody was listening or unplugged

    def __enter__(self) -> VirtualPort:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # bytes pass unchanged (no echo, no CR/LF translation)
        os.set_blocking(master, False)
        with self._lock:
            if self._stop.is_set():  # a re-plug due after `stop` must not leave a terminal behind
                os.close(master)
                os.close(slave)
                return
            self._master, self._slave = master, slave
            self.path = os.ttyname(slave)
            if self.link:
                tmp = f"{self.link}.tmp"
                if os.path.lexists(tmp):
                    os.remove(tmp)
                os.symlink(self.path, tmp)
                os.replace(tmp, self.link)

    def _unplug(self) -> None:
        with self._lock:
            # the link first: left pointing at the closed terminal, a host retrying it would open
            # whichever new terminal the system gives that number next (another device's) and lock
            # it; seen in the test suite as another test's port "in use by another program"
            if self.link and os.path.lexists(self.link):
                os.remove(self.link)
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1

    def start(self) -> None:
        self._plug()
        self._thread = threading.Thread(target=self._run, name="virtual-port", daemon=True)
        self._thread.start()

    def unplug(self, for_s: float) -> None:
        """Pull the cable now; plug it back in after `for_s` seconds (in the background)."""
        self._unplug()
        self._replug = threading.Timer(for_s, self._plug)
        self._replug.daemon = True
        self._replug.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master >= 0:
                try:
                    ready, _, _ = select.select([master], [], [], 0)
                    if ready:
                        self.firmware.write(os.read(master, 4096))
                except OSError:
                    pass  # unplugged between the lock and the read
            data = self.firmware.read(0.002)
            if data:
                self._send(data)
            elif getattr(self.firmware, "finished", False):
                time.sleep(0.01)

    def _send(self, data: bytes) -> None:
        with self._lock:
            master = self._master
            if master < 0:
                self.dropped_bytes += len(data)
                return
            view = memoryview(data)
            while view:
                try:
                    n = os.write(master, view)
                except BlockingIOError:  # the host is not reading: the UART's buffer overflows
                    self.dropped_bytes += len(view)
                    return
                except OSError:
                    self.dropped_bytes += len(view)
                    return
                view = view[n:]

    def stop(self) -> None:
        self._stop.set()
        if self._replug is not None:
            self._replug.cancel()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._unplug()
