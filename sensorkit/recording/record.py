"""Recording a session: devices opened from their specs, acquired into one XDF file and any
other consumers (the live pipeline), until they end, a duration, Ctrl-C, SIGTERM or SIGHUP.

The workflow behind `sensorkit record`, `simulate`, `live --record` and `demo`. It
destroys nothing: with an existing output (the caller has checked `--overwrite`) the
old file is set aside and comes back if the new recording fails before its first
sample, and a failed start leaves no file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sensorkit.acquisition import Acquisition, Consumer
from sensorkit.devices.spec import open_device
from sensorkit.recording.outputs import write_text
from sensorkit.recording.protocol import Protocol, ProtocolRunner
from sensorkit.recording.recorder import Recorder
from sensorkit.streams import MARKERS, Chunk, StreamInfo

SESSION_MARKERS = StreamInfo("session_markers", MARKERS, ("marker",), ("",), 0.0, source_id="sensorkit:protocol",
                             channel_format="string")  # fmt: skip


class MarkerStream:
    """Markers set during acquisition (a protocol's steps, notes), as a Markers stream: each
    is stamped with the newest data time, so it lines up with the samples whatever the
    source's pace (a simulator at 4x, a replay), and handed to every consumer."""

    def __init__(self, acq: Acquisition) -> None:
        self.acq = acq
        self.sent: list[tuple[float, str]] = []

    def __call__(self, text: str, at: float | None = None) -> None:
        """Set marker `text` now, or at data time `at` (an event found in data already
        recorded, such as a channel's signal quality changing)."""
        t = at if at is not None else self.acq.last_time if self.acq.last_time is not None else time.monotonic()
        if self.sent and t <= self.sent[-1][0]:  # markers keep the order they were set in
            t = self.sent[-1][0] + 1e-3
        chunk = Chunk(SESSION_MARKERS, [t], [[text]])
        self.sent.append((float(t), text))
        for consume in self.acq.consumers:
            consume(chunk)


def protocol_in_terminal(protocol: Protocol, inp=None, out=None) -> Callable[[Acquisition], None]:
    """An `on_start` for `record` that walks a protocol in the terminal: Enter starts or ends
    the step shown, `skip` leaves it out, `note TEXT` adds an annotation."""
    inp = inp or sys.stdin
    out = out or sys.stdout

    def start(acq: Acquisition) -> None:
        runner = ProtocolRunner(protocol, MarkerStream(acq))

        def say(text: str) -> None:
            print(text, file=out, flush=True)

        def show() -> None:
            step = runner.step
            if step is None:
                say("  protocol complete: Ctrl-C ends the recording")
                return
            action = "end" if runner.running else "start"
            say(f"  next: {step.title()} - {step.say}" if not runner.running else f"  now: {step.title()}")
            say(f"  [Enter] {action}  [skip]  [note TEXT]")

        def loop() -> None:
            say(f"protocol: {protocol.name} ({len(protocol.steps)} steps)")
            show()
            for line in inp:
                line = line.strip()
                if line.startswith("note "):
                    runner.annotate(line[5:])
                    say("  note added")
                    continue
                say("  " + (runner.skip() if line == "skip" else runner.advance()))
                show()

        threading.Thread(target=loop, name="sensorkit-protocol", daemon=True).start()

    return start


@contextlib.contextmanager
def stop_on_hangup() -> Iterator[None]:
    """SIGTERM (a service manager, `kill`) and SIGHUP (a closed terminal) end a recording
    like Ctrl-C: the file is closed with its footers instead of cut off. SIGINT is handled
    too, since a recorder started from a script in the background inherits it ignored and
    `kill -INT` must still stop it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    signals = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
    old = {sig: signal.signal(sig, stop) for sig in signals if sig}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def replacing(output: str | None) -> Iterator[None]:
    """The old file at `output` is set aside and restored if the new recording fails before
    it holds any sample; it is removed only once the new one has data."""
    if output is None:
        yield
        return
    p = Path(output)
    backup = p.with_name(f".{p.name}.replaced")
    if p.exists():
        os.replace(p, backup)
    try:
        yield
    except BaseException:
        if backup.exists() and not p.exists():
            os.replace(backup, p)
        raise
    with contextlib.suppress(OSError):
        backup.unlink()


def record(specs: list[str], output: str | None, meta: dict[str, str], duration: float | None,
           quiet: bool = False, hostname: bool = False, consumers: list[Consumer] | None = None,
           on_start: Callable[[Acquisition], None] | None = None,
           on_stop: Callable[[], None] | None = None) -> list:  # fmt: skip
    """Acquire the devices of `specs` into the XDF file `output` (None: no file) and
    `consumers`; returns the sources (closed). Progress goes to stdout unless `quiet`.
    `on_stop` runs once the devices have stopped and before the file is closed (a live
    analysis catching up writes its last markers then).
    """
    sources = [open_device(s) for s in specs]
    with replacing(output), stop_on_hangup():
        return _record(sources, output, meta, duration, quiet, hostname, consumers or [], on_start, on_stop)


def _record(sources: list, output: str | None, meta: dict[str, str], duration: float | None, quiet: bool,
            hostname: bool, consumers: list[Consumer], on_start, on_stop=None) -> list:  # fmt: skip
    recorder = Recorder(output, meta, hostname=hostname) if output is not None else None
    acq = Acquisition(sources, ([recorder.push] if recorder else []) + consumers)
    started = time.monotonic()
    interactive = sys.stdout.isatty()
    ticks = [0]

    def tick() -> None:
        ticks[0] += 1
        if quiet or (not interactive and ticks[0] % 5):  # a log gets a line every 5 s
            return
        states = "; ".join(src.status().line() for src in sources)
        what = "recorded" if recorder else "acquired"
        line = f"  {acq.elapsed:7.1f} s {what} in {time.monotonic() - started:5.1f} s | {states}"
        print("\r" + line if interactive else line, end="" if interactive else "\n", flush=True)

    try:
        acq.start()
        if on_start is not None:
            on_start(acq)
        acq.wait(duration, on_tick=tick)
    except KeyboardInterrupt:
        if not quiet:
            print("\n  stopped by user; closing the file" if recorder else "\n  stopped by user")
    finally:
        try:
            acq.stop()
            if on_stop is not None:
                on_stop()
        finally:
            if recorder is not None:
                try:
                    recorder.close()
                finally:
                    if recorder.samples_written == 0 and sys.exc_info()[0] is not None:
                        with contextlib.suppress(OSError):
                            os.remove(output)  # a failed start leaves no empty recording behind
    if not quiet:
        ticks[0] = 0
        tick()
        if interactive:
            print()
    return sources


def write_truths(sources: list, path: Path) -> Path | None:
    """The simulated patient's ground truth (times on the recording's clock) beside its file;
    the path written, or None when no source is simulated."""
    truths = [s.transport.truth_on_host_clock() for s in sources
              if hasattr(getattr(s, "transport", None), "truth_on_host_clock")]  # fmt: skip
    if not truths:
        return None
    write_text(path, json.dumps(truths[0] if len(truths) == 1 else truths, indent=1))
    return path
