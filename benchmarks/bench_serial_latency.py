"""End-to-end latency and CPU of serial acquisition: sk1 bytes written to a pty -> chunk at a consumer.

A simulated sk1 unit (16 EMG channels at 2 kHz, 24 bit, plus a 200 Hz IMU) runs in
its own process and writes its frames into a pseudo-terminal at real-time pace.
This process reads it with sensorkit's serial driver (pyserial transport, sk1
decoder, assembler, Acquisition thread) and notes when each chunk reaches a
consumer. Latency of a chunk = arrival at the consumer minus the moment its last
sample was released by the firmware. Baseline, same run: a bare reader that only
pulls the bytes off the pty (no decoding), timed the same way. CPU is this
process's CPU time over the wall time (the firmware's process not counted).
Target: p99 <= 20 ms.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import select
import time

import numpy as np

from sensorkit.acquisition import Acquisition
from sensorkit.devices.drivers.sk1 import Sk1Device
from sensorkit.devices.transports.serial import SerialTransport
from sensorkit.protocols import sk1

SECONDS = 20.0
MUSCLES = tuple(f"m{i}_{'LR'[i % 2]}" for i in range(16))


def _firmware(link: str, started: mp.Queue, seconds: float) -> None:
    from sensorkit.devices.virtual.pty import VirtualPort
    from sensorkit.devices.virtual.sk1 import SimFirmware
    from sensorkit.sim import Dosage, SimConfig, SimRecording, simulate

    rec = simulate(SimConfig(scenario="calibration", muscles=MUSCLES, dose=Dosage(reps=1)))
    n_e, n_i = int((seconds + 2) * rec.config.fs_emg), int((seconds + 2) * rec.config.fs_imu)
    rec = SimRecording(rec.config, rec.emg[:n_e], rec.imu[:n_i], [], rec.truth)
    firmware = SimFirmware(rec, speed=1.0)
    with VirtualPort(firmware, link=link):
        started.put("ready")
        while firmware.host_start is None:
            time.sleep(0.001)
        started.put(firmware.host_start)
        time.sleep(seconds + 3)


def _start(link: str, seconds: float) -> tuple[mp.Process, mp.Queue]:
    q: mp.Queue = mp.Queue()
    p = mp.get_context("fork").Process(target=_firmware, args=(link, q, seconds), daemon=True)
    p.start()
    assert q.get(timeout=60) == "ready"
    return p, q


def sensorkit_latency(link: str) -> tuple[np.ndarray, float, int]:
    proc, q = _start(link, SECONDS)
    device = Sk1Device(SerialTransport(link, 921600), "bench")
    arrivals: list[tuple[str, int, float]] = []  # stream, samples so far, arrival time
    counts: dict[str, int] = {}

    def consume(chunk) -> None:
        if chunk.info.srate:
            counts[chunk.info.name] = counts.get(chunk.info.name, 0) + len(chunk)
            arrivals.append((chunk.info.name, counts[chunk.info.name], time.monotonic()))

    acq = Acquisition([device], [consume])
    acq.start()
    host_start = q.get(timeout=30)
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(SECONDS)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    acq.stop()
    proc.join(10)
    rates = {s.name: s.srate for s in device.streams() if s.srate}
    lat = [t - (host_start + (n - 1) / rates[name]) for name, n, t in arrivals]
    return np.array(lat[10:]), cpu / wall, len(rates)


def bare_latency(link: str) -> np.ndarray:
    """Bytes pulled off the pty as they come; frames decoded afterwards to know their sample times."""
    proc, q = _start(link, 8.0)
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
    os.write(fd, sk1.encode_frame(sk1.COMMAND, 0, 0, sk1.command_body(sk1.CMD_START)))
    host_start = q.get(timeout=30)
    reads = []
    end = time.monotonic() + 8.0
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.1)[0]:
            reads.append((os.read(fd, 65536), time.monotonic()))
    os.close(fd)
    proc.join(10)
    dec, lat = sk1.Decoder(), []
    rates = {0: 2000.0, 1: 200.0}
    for data, t in reads:
        for f in dec.feed(data):
            if f.type in (sk1.EMG_BLOCK, sk1.IMU_BLOCK):
                sid, _, _, n, first = sk1.BLOCK_HEADER.unpack_from(f.body)
                lat.append(t - (host_start + (first + n - 1) / rates[sid]))
    return np.array(lat[10:])


def main() -> dict:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = bare_latency(os.path.join(tmp, "tty-bare"))
        lat, cpu, n_streams = sensorkit_latency(os.path.join(tmp, "tty-sk"))
    ms = lambda a, q: 1000 * float(np.percentile(a, q))  # noqa: E731
    print("Serial acquisition latency (16 ch x 2 kHz EMG + 200 Hz IMU over a pty, bytes out -> chunk at a consumer)")
    print(f"  sensorkit: median {ms(lat, 50):.1f} ms, p99 {ms(lat, 99):.1f} ms, max {1000 * lat.max():.1f} ms "
          f"over {len(lat)} chunks (target p99 <= 20 ms)")  # fmt: skip
    print(f"  bare pty reader (baseline, same run): median {ms(base, 50):.1f} ms, p99 {ms(base, 99):.1f} ms; "
          f"sensorkit adds {ms(lat, 50) - ms(base, 50):+.1f} ms at the median")  # fmt: skip
    print(f"  CPU of acquisition: {100 * cpu:.1f}% of one core in all, {100 * cpu / n_streams:.1f}% per stream")
    return {"p99_ms": ms(lat, 99), "cpu": cpu}


if __name__ == "__main__":
    main()
