"""Helpers shared by the benchmarks: workloads and a best-of-N timer."""

from __future__ import annotations

import time

import numpy as np

from sensorkit.analysis.session import EmgData, ImuData, SessionData
from sensorkit.protocols import sk1
from sensorkit.streams import IMU_CHANNELS, Chunk, StreamInfo

EMG_CH, EMG_FS, IMU_FS = 16, 2000.0, 200.0


def match(ref, det, tol: float) -> list[tuple[int, int]]:
    """(i, j) pairs matching reference events `ref[i]` one to one with detected ones `det[j]`
    within `tol` (same units), nearest pairs first."""
    pairs = sorted((abs(r - d), i, j) for i, r in enumerate(ref) for j, d in enumerate(det) if abs(r - d) <= tol + 1e-9)
    used_i, used_j, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((i, j))
    return out


def sim_session(rec, emg: bool = True, imu: np.ndarray | None = None, markers: bool = True) -> SessionData:
    """`analyze`'s input from a simulated recording `rec`: its EMG (none without `emg`), its pelvis
    IMU (or `imu`, (n, 6) acc m/s^2 and gyr rad/s, e.g. with samples lost or the sensor turned)
    and its markers (none without `markers`)."""
    c = rec.config
    imu = rec.imu if imu is None else imu
    e = EmgData(np.arange(len(rec.emg)) / c.fs_emg, rec.emg, list(c.muscles), c.fs_emg) if emg else None
    return SessionData("sim", e, ImuData(np.arange(len(imu)) / c.fs_imu, imu[:, :3], imu[:, 3:], c.fs_imu),
                       list(rec.markers) if markers else [])  # fmt: skip


def best_time(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` runs, seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def sk1_wire(seconds: float, seed: int = 0) -> bytes:
    """sk1 bytes of a 16-ch 2 kHz int24 EMG stream and two 200 Hz 6-axis IMUs."""
    rng = np.random.default_rng(seed)
    frames = []
    emg = sk1.StreamDesc(0, sk1.KIND_EMG, sk1.FMT_INT24, EMG_CH, EMG_FS, "emg")
    for i in range(EMG_CH):
        emg.channels[i] = sk1.ChannelDesc(f"ch{i}_L", "V", 2.2e-8)
    descs = [emg]
    for sid, name in ((1, "pelvis"), (2, "thigh_L")):
        d = sk1.StreamDesc(sid, sk1.KIND_IMU, sk1.FMT_INT16, 6, IMU_FS, name)
        for i, label in enumerate(IMU_CHANNELS):
            d.channels[i] = sk1.ChannelDesc(label, "m/s^2" if i < 3 else "rad/s", 0.001)
        descs.append(d)
    items = []
    for d in descs:
        items += [(-1.0, sk1.STREAM_INFO, b) for b in sk1.stream_info_bodies(d)]
    per_emg = (sk1.MAX_BODY - 8) // (3 * EMG_CH)
    n = int(seconds * EMG_FS)
    emg_vals = rng.normal(0, 3000, (n, EMG_CH)).astype(np.int32)
    for first in range(0, n, per_emg):
        v = emg_vals[first : first + per_emg]
        items.append((first / EMG_FS, sk1.EMG_BLOCK, sk1.sample_block_body(0, first, v, sk1.FMT_INT24)))
    m = int(seconds * IMU_FS)
    for sid in (1, 2):
        imu_vals = rng.normal(0, 2000, (m, 6)).astype(np.int32)
        for first in range(0, m, 4):
            body = sk1.sample_block_body(sid, first, imu_vals[first : first + 4], sk1.FMT_INT16)
            items.append((first / IMU_FS, sk1.IMU_BLOCK, body))
    items.sort(key=lambda x: x[0])
    for seq, (t, ptype, body) in enumerate(items):
        frames.append(sk1.encode_frame(ptype, seq, int(max(t, 0) * 1e6), body))
    return b"".join(frames)


def stream_infos() -> list[StreamInfo]:
    emg = StreamInfo("emg", "EMG", tuple(f"ch{i}_L" for i in range(EMG_CH)), ("V",) * EMG_CH, EMG_FS)
    imus = [StreamInfo(n, "IMU", IMU_CHANNELS,
                       ("m/s^2",) * 3 + ("rad/s",) * 3, IMU_FS) for n in ("pelvis", "thigh_L")]
    return [emg, *imus]


def synthetic_chunks(seconds: float, chunk_s: float = 0.05, seed: int = 0, t0: float = 0.0):
    """Chunks of the benchmark streams, generated on the fly (constant memory)."""
    rng = np.random.default_rng(seed)
    infos = stream_infos()
    steps = int(round(seconds / chunk_s))
    for k in range(steps):
        for info in infos:
            n = int(round(info.srate * chunk_s))
            t = t0 + k * chunk_s + np.arange(n) / info.srate
            yield Chunk(info, t, rng.standard_normal((n, info.n_channels), dtype=np.float32))
