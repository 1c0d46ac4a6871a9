"""sk1 decoding speed, as a real-time factor, against a naive per-byte, per-frame decoder.

Workload: 16-ch 2 kHz int24 EMG + two 6-axis 200 Hz IMUs, fed in 4 KiB reads as a
serial port delivers them. "frames" is bytes -> validated frames; "chunks" adds the
conversion to scaled float samples with host timestamps (the whole device path).
Target: >= 1000x real time on one core.
"""

from __future__ import annotations

import binascii
import struct

import numpy as np
from common import best_time, sk1_wire

from sensorkit.devices.drivers.sk1 import Sk1Assembler
from sensorkit.protocols import sk1

SECONDS = 20.0


def naive_decode(data: bytes) -> int:
    """Textbook decoder: a byte-at-a-time COBS state machine, then per-frame unpacking."""
    frames = 0
    buf = bytearray()
    for byte in data:
        if byte:
            buf.append(byte)
            continue
        out, i = bytearray(), 0
        while i < len(buf):
            code = buf[i]
            out += buf[i + 1 : i + code]
            i += code
            if code < 0xFF and i < len(buf):
                out.append(0)
        buf.clear()
        if len(out) < 10 or binascii.crc_hqx(bytes(out[:-2]), 0xFFFF) != int.from_bytes(out[-2:], "little"):
            continue
        _, ptype, _, _ = struct.unpack_from("<BBHI", out)
        if ptype in (sk1.EMG_BLOCK, sk1.IMU_BLOCK):
            _, fmt, ch, n, _ = struct.unpack_from("<BBBBI", out, 8)
            width = 3 if fmt == sk1.FMT_INT24 else 2
            vals = [int.from_bytes(out[16 + k * width : 16 + (k + 1) * width], "little", signed=True)
                    for k in range(n * ch)]
            np.asarray(vals, dtype=np.float32).reshape(n, ch)
        frames += 1
    return frames


def ours_frames(data: bytes) -> int:
    dec = sk1.Decoder()
    n = 0
    for i in range(0, len(data), 4096):
        n += len(dec.feed(data[i : i + 4096]))
    return n


def ours_chunks(data: bytes, read_size: int = 4096) -> int:
    dec = sk1.Decoder()
    asm = Sk1Assembler("bench")
    n = 0
    for i in range(0, len(data), read_size):
        host_s = i / len(data) * SECONDS + 0.002  # received ~2 ms after sending
        for c in asm.process(dec.feed(data[i : i + read_size]), host_s=host_s):
            n += len(c)
    return n


def main() -> dict:
    data = sk1_wire(SECONDS)
    if ours_frames(data) != naive_decode(data):
        raise SystemExit("decoders disagree on the frame count: the benchmark is invalid")
    t_naive = best_time(lambda: naive_decode(data), repeat=1)
    t_frames = best_time(lambda: ours_frames(data))
    t_chunks = best_time(lambda: ours_chunks(data))
    t_big = best_time(lambda: ours_chunks(data, 65536))
    rows = {"naive per-byte decoder": t_naive, "sk1.Decoder (frames)": t_frames,
            "Decoder + Sk1Assembler (chunks)": t_chunks, "  same, 64 KiB reads (catch-up)": t_big}
    print(f"sk1 decode, {SECONDS:.0f} s of 16ch x 2 kHz EMG + 2 IMUs ({len(data) / SECONDS / 1e3:.0f} kB/s)")
    for name, t in rows.items():
        print(f"  {name:<34} {SECONDS / t:9.0f}x real time   {t_naive / t:6.1f}x the naive baseline")
    return {"decode_frames_rtf": SECONDS / t_frames, "decode_chunks_rtf": SECONDS / t_chunks,
            "naive_rtf": SECONDS / t_naive}


if __name__ == "__main__":
    main()
