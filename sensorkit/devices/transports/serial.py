"""Bytes from a USB serial port (pyserial), reopened by itself after an unplug.

A port is named by its path (`/dev/ttyUSB0`, `COM3`, a udev symlink) or by its
USB identity `VID:PID` (hex, e.g. `0483:5740`) with an optional serial number, so
that a replugged unit is found again even when the system gives it another path.
While the port is gone, `read` returns nothing and retries with back-off; the
device driver learns of the loss and the return from `events()`.
"""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass

import serial
from serial.tools import list_ports

from sensorkit.errors import SensorkitError

BACKOFF_S = (0.1, 0.2, 0.3, 0.5)  # between reconnection attempts; the last repeats
_USB_ID = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None

    def line(self) -> str:
        usb = f"  USB {self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else ""
        sn = f" serial {self.serial_number}" if self.serial_number else ""
        return f"{self.device}  {self.description}{usb}{sn}"


def list_serial_ports() -> list[PortInfo]:
    """Serial ports the system knows, as pyserial's port tools list them."""
    return [PortInfo(p.device, p.description or "", p.vid, p.pid, p.serial_number)
            for p in sorted(list_ports.comports(), key=lambda p: p.device)]  # fmt: skip


def resolve_port(target: str, serial_number: str | None = None) -> str:
    """The device path for a path or a `VID:PID` (and serial number)."""
    m = _USB_ID.match(target)
    if not m:
        return target
    vid, pid = int(m.group(1), 16), int(m.group(2), 16)
    found = [p for p in list_serial_ports() if p.vid == vid and p.pid == pid
             and (serial_number is None or p.serial_number == serial_number)]  # fmt: skip
    if not found:
        sn = f" with serial number {serial_number}" if serial_number else ""
        raise SensorkitError(f"no USB serial device {target}{sn} is connected (see `sensorkit devices`)")
    if len(found) > 1:
        raise SensorkitError(f"{len(found)} USB serial devices are {target}: name one with serial=... "
                             f"({', '.join(p.serial_number or p.device for p in found)})")  # fmt: skip
    return found[0].device


def usb_identity(port: str) -> tuple[int, int, str | None] | None:
    """(VID, PID, serial number) of the USB device behind a port path (a symlink is followed);
    None for a port without one (a built-in UART, a pseudo-terminal, Bluetooth serial)."""
    real = os.path.realpath(port)
    for p in list_serial_ports():
        if os.path.realpath(p.device) == real and p.vid is not None and p.pid is not None:
            return p.vid, p.pid, p.serial_number
    return None


def _explain(port: str, exc: BaseException) -> str:
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return f"serial port {port} does not exist (see `sensorkit devices` for the ports there are)"
    if err == errno.EACCES or "Permission denied" in text or "PermissionError" in text:
        return (f"no permission to open {port}: on Linux add yourself to the 'dialout' group "
                f"(sudo usermod -aG dialout $USER, then log in again)")  # fmt: skip
    if err == errno.EBUSY or "busy" in text.lower() or "exclusively lock" in text:
        return f"serial port {port} is in use by another program"
    return f"cannot open serial port {port}: {text}"


# a port answering EAGAIN while it opens is tried again this often: up to 1 s (0.25 s was not
# always enough on a loaded 2-core machine, where a test saw it twice in a day)
OPEN_TRIES, OPEN_RETRY_S = 20, 0.05


class SerialTransport:
    """A byte transport (see `transports.base.Transport`) on a serial port."""

    def __init__(self, target: str, baudrate: int = 115200, serial_number: str | None = None) -> None:
        self.target, self.baudrate, self.serial_number = target, baudrate, serial_number
        self.port: str | None = None
        self._ser: serial.Serial | None = None
        self._events: list[tuple[str, float]] = []
        self._attempt = 0
        self._next_try = 0.0
        self._read_at = 0.0
        self.reconnects = 0
        self._closed = False  # by `close`: a lost link is reopened, a closed one never
        self._identity: tuple[int, int, str | None] | None = None  # the USB unit first opened
        self.foreign = ""  # the other unit found on the port while waiting for ours, if any

    @property
    def connected(self) -> bool:
        return self._ser is not None

    def _connect(self) -> None:
        port = resolve_port(self.target, self.serial_number)
        for attempt in range(OPEN_TRIES):
            try:
                self._ser = serial.Serial(port, self.baudrate, timeout=0, exclusive=True)
                break
            except (serial.SerialException, OSError, ValueError) as exc:
                # EAGAIN from one of the opening ioctls means what it says: the line was busy for
                # a moment (seen on pseudo-terminals under load); anything else is final
                if getattr(exc, "errno", None) != errno.EAGAIN or attempt == OPEN_TRIES - 1:
                    raise SensorkitError(_explain(port, exc)) from None
                time.sleep(OPEN_RETRY_S)
        self.port = port

    def open(self) -> None:
        self._connect()
        self._identity = usb_identity(self.port) if self.port else None
        self._attempt = 0
        self._closed = False

    def events(self) -> list[tuple[str, float]]:
        """('disconnected' | 'reconnected' | 'other_unit', host time) since the last call
        ('other_unit': another USB device came up on the port while ours was out; not taken)."""
        out, self._events = self._events, []
        return out

    def _lost(self) -> None:
        if self._closed or self._ser is None:  # closed meanwhile (a read failing as the port closed)
            return
        try:
            self._ser.close()
        except (serial.SerialException, OSError):
            pass
        self._ser = None
        self._events.append(("disconnected", time.monotonic()))
        self._attempt = 0
        self._next_try = time.monotonic() + BACKOFF_S[0]

    def _retry(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._next_try:
            time.sleep(min(timeout, self._next_try - now))
            return
        try:
            self._connect()
            self._check_same_unit()
        except SensorkitError:
            self._attempt += 1
            self._next_try = time.monotonic() + BACKOFF_S[min(self._attempt, len(BACKOFF_S) - 1)]
            return
        self.reconnects += 1
        self._events.append(("reconnected", time.monotonic()))

    def _check_same_unit(self) -> None:
        """A path named by the user (`/dev/ttyUSB0`) goes to whichever adapter the system plugs
        in next: another unit plugged in while ours was out would be read as ours, its samples
        recorded under our streams. Such a port is let go again (and left to its own program);
        we go on waiting for our unit. (A `VID:PID` target is resolved afresh on every try.)"""
        if self._identity is None or self.port is None:
            return
        now = usb_identity(self.port)
        if now is not None and now != self._identity:
            if self._ser is not None:
                self._ser.close()
                self._ser = None
            vid, pid, sn = now
            foreign = f"USB {vid:04x}:{pid:04x}" + (f" serial {sn}" if sn else "")
            if foreign != self.foreign:  # marked once per unit, not on every try
                self.foreign = foreign
                self._events.append(("other_unit", time.monotonic()))
            raise SensorkitError(f"{self.port} is now another device ({self.foreign})")

    def read(self, timeout: float) -> bytes:
        """What arrived within `timeout` s (at least one byte waited for); b'' while unplugged
        or once closed."""
        if self._ser is None:
            # closed, not lost: a read still under way elsewhere (a source thread outliving its
            # join) must not reopen the port; it would hold it exclusively, and a path reused for
            # another device (a pseudo-terminal's number) would be taken from that device
            if not self._closed:
                self._retry(timeout)
            return b""
        try:
            self._ser.timeout = timeout
            data = self._ser.read(1)
            if data and self._ser.in_waiting:
                data += self._ser.read(self._ser.in_waiting)
        except (serial.SerialException, OSError):
            self._lost()
            return b""
        self._read_at = time.monotonic()
        return data

    def write(self, data: bytes) -> None:
        if self._ser is None:
            return  # commands are sent again after a reconnection
        try:
            self._ser.write(data)
        except (serial.SerialException, OSError):
            self._lost()

    def clock(self) -> float:
        """Host time at which the last read returned."""
        return self._read_at

    def close(self) -> None:
        self._closed = True
        if self._ser is not None:
            try:
                self._ser.close()
            finally:
                self._ser = None
