"""Bluetooth LE peripherals through bleak, in a thread with its own asyncio loop.

`BleLink` finds a peripheral by address or by name, connects, subscribes to the
notifications a protocol needs and writes its commands; notification payloads
are queued with their host receive time, so that a driver reads them like bytes
from a port, never blocking on the radio. When the link drops (out of range,
switched off) it reports `disconnected`, keeps trying to reconnect with back-off,
and reports `reconnected`.

As bleak's `BleakClient(backend=...)` does, the link takes an injectable backend:
production uses `BleakBackend` (bleak's scanner and client); tests pass a fake
that plays back recorded notification payloads, without monkeypatching.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sensorkit.errors import SensorkitError

BACKOFF_S = (0.5, 1.0, 2.0, 5.0)  # between reconnection attempts; the last repeats
CONNECT_TIMEOUT_S = 20.0


class BleBackend(Protocol):
    async def find(self, target: str, timeout: float) -> Any:
        """The device for an address or `name=NAME`, or None."""

    def client(self, device: Any, on_disconnect: Callable[[Any], None]) -> Any:
        """A client with async connect(), disconnect(), start_notify(uuid, cb), write_gatt_char(uuid, data,
        response) and is_connected, as bleak's BleakClient has."""


class BleakBackend:
    """bleak's scanner and client (install the `ble` extra)."""

    def __init__(self) -> None:
        try:
            import bleak
        except ImportError:
            raise SensorkitError("Bluetooth LE needs bleak: pip install 'sensorkit[ble]'") from None
        self._bleak = bleak

    async def find(self, target: str, timeout: float) -> Any:
        scanner = self._bleak.BleakScanner
        if target.startswith("name="):
            return await scanner.find_device_by_name(target[5:], timeout=timeout)
        return await scanner.find_device_by_address(target, timeout=timeout)

    def client(self, device: Any, on_disconnect: Callable[[Any], None]) -> Any:
        return self._bleak.BleakClient(device, disconnected_callback=on_disconnect)


class BleLink:
    """One BLE peripheral: notifications in (uuid, payload, host time), writes out."""

    def __init__(self, target: str, notify: list[str], backend: BleBackend | None = None,
                 on_connect: Callable[[BleLink], None] | None = None) -> None:  # fmt: skip
        if not target or target == "name=":
            raise SensorkitError("ble:// needs an address (ble://AA:BB:CC:DD:EE:FF) or a name (ble://name=Myo)")
        self.target, self.notify_uuids = target, notify
        self.backend = backend
        self.on_connect = on_connect  # e.g. the commands that start streaming, sent after each connection
        self._queue: queue.Queue[tuple[str, bytes, float]] = queue.Queue()
        self._events: list[tuple[str, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._device: Any = None
        self._closing = False
        self.connected = False
        self.reconnects = 0
        self._read_at = 0.0

    # ------------------------------------------------------------ running the loop
    def _run(self, coro, timeout: float):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def open(self) -> None:
        self.backend = self.backend or BleakBackend()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sensorkit-ble", daemon=True)
        self._thread.start()
        try:
            self._run(self._connect(first=True), CONNECT_TIMEOUT_S + 5)
        except SensorkitError:
            self.close()
            raise
        except Exception as exc:  # the BLE stack's own errors (adapter off, pairing refused, ...)
            self.close()
            raise SensorkitError(f"cannot connect to BLE device {self.target}: {exc}") from None

    async def _connect(self, first: bool) -> None:
        if self._device is None or first:
            self._device = await self.backend.find(self.target, timeout=CONNECT_TIMEOUT_S / 2)
            if self._device is None:
                what = f"named {self.target[5:]!r}" if self.target.startswith("name=") else self.target
                raise SensorkitError(f"no BLE device {what} found: is it on, charged and in range?")
        self._client = self.backend.client(self._device, self._on_disconnect)
        await self._client.connect()
        for uuid in self.notify_uuids:
            await self._client.start_notify(uuid, self._callback(uuid))
        self.connected = True
        if self.on_connect is not None:
            self.on_connect(self)

    def _callback(self, uuid: str) -> Callable[[Any, bytearray], None]:
        def received(_char: Any, data: bytearray) -> None:
            self._queue.put((uuid, bytes(data), time.monotonic()))

        return received

    def _on_disconnect(self, _client: Any) -> None:
        if self._closing or not self.connected:
            return
        self.connected = False
        self._events.append(("disconnected", time.monotonic()))
        asyncio.ensure_future(self._reconnect(), loop=self._loop)

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._closing and not self.connected:
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1
            try:
                await self._connect(first=False)
            except Exception:  # out of range still: try again later
                continue
            self.reconnects += 1
            self._events.append(("reconnected", time.monotonic()))

    # ------------------------------------------------------------ driver side
    def events(self) -> list[tuple[str, float]]:
        out, self._events = self._events, []
        return out

    def read(self, timeout: float) -> list[tuple[str, bytes, float]]:
        """Notifications received so far (waiting up to `timeout` s for the first)."""
        try:
            items = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._read_at = items[-1][2]
        return items

    def write(self, uuid: str, data: bytes, response: bool = True) -> None:
        """Write to a characteristic (from the loop's thread or any other)."""
        if not self.connected or self._client is None:
            return  # commands are sent again by on_connect after a reconnection
        coro = self._client.write_gatt_char(uuid, data, response=response)
        if threading.current_thread() is self._thread:
            asyncio.ensure_future(coro, loop=self._loop)
        else:
            try:
                self._run(coro, 5.0)
            except Exception:  # the link dropped meanwhile: the disconnect callback says so
                pass

    def clock(self) -> float:
        """Host receive time of the latest notification read."""
        return self._read_at

    def close(self) -> None:
        self._closing = True
        if self._loop is None:
            return
        if self._client is not None and self.connected:
            try:
                self._run(self._client.disconnect(), 5.0)
            except Exception:
                pass
        self.connected = False
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None


def scan(timeout: float) -> list[str]:
    """Nearby BLE devices that look like sensors sensorkit reads (sk1 service or a Myo)."""
    from sensorkit.protocols import myo, sk1

    bleak = BleakBackend()._bleak

    async def discover():
        return await bleak.BleakScanner.discover(timeout=timeout, return_adv=True)

    try:
        found = asyncio.run(discover())
    except Exception as exc:
        raise SensorkitError(f"cannot scan for BLE devices: {exc}") from None
    lines = []
    for device, adv in found.values():
        uuids = {u.lower() for u in (adv.service_uuids or [])}
        if sk1.BLE_SERVICE_UUID in uuids:
            lines.append(f"{device.address}  {device.name or '?'}  sk1: ble://{device.address}?protocol=sk1")
        elif myo.CONTROL_SERVICE in uuids or (device.name or "").lower().startswith("myo"):
            lines.append(f"{device.address}  {device.name or '?'}  Myo: ble://{device.address}?protocol=myo")
    return lines
