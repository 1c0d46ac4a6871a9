"""Recording faults a clinic meets, with their true times: the signal-quality test bench.

`add_faults` changes a rendered EMG array (V, rows = samples at `fs`) in place and
returns the truth, one dict per fault: `kind` (the `signal_quality` event kinds:
`lift_off`, `flat`, `pop`, `saturation`, `gap`), `channel` (a label; "*" for a gap,
which loses whole rows, as a dropped radio packet does), `start_s`, `end_s`.

Models, each with amplitudes drawn per fault so no detector can key on one value:
- lift-off: the electrode leaves the skin for 3-20 s inside an exercise block; the
  floating input picks up mains hum of 0.2-3 mV and a slow drift of 0.2-2 mV, and
  the muscle signal falls to a tenth;
- flat: the channel reads one constant value for 1-5 s (a stuck converter or a
  disconnected lead behind a lead-off clamp);
- pop: a half-cell potential step of 0.3-3 mV rising in 1-4 ms and decaying with a
  time constant of 0.05-0.5 s, three per session on random channels;
- saturation: a 0.5-2 s movement transient large enough to drive the amplifier into
  its rail (+-`RAIL_V`), where the signal sits clipped;
- gap: 50-400 ms of lost rows (NaN) over a burst onset.

`with_drop_outs` loses a share of any signal's rows in radio drop-outs (NaN rows), for
benchmarks and tests of what lost samples do to a detector.
"""

from __future__ import annotations

import numpy as np

RAIL_V = 0.18  # amplifier output limit (an ADS1299 at gain 24 spans +-187 mV)


def _block_times(exercises: list[dict], duration: float) -> list[tuple[float, float]]:
    spans = [(b["start_s"], b["end_s"]) for b in exercises if b["end_s"] - b["start_s"] > 6]
    return spans or [(1.0, max(duration - 1.0, 1.5))]


def add_faults(emg: np.ndarray, fs: float, muscles: tuple[str, ...], exercises: list[dict],
               onsets: list[tuple[str, float]], mains_hz: float, rng: np.random.Generator) -> list[dict]:  # fmt: skip
    """Add one lift-off, one flat stretch, three pops, one saturation and one gap to `emg`."""
    n, n_ch = emg.shape
    duration = n / fs
    t = np.arange(n) / fs
    blocks = _block_times(exercises, duration)
    truth: list[dict] = []
    busy: list[tuple[int, float, float]] = []  # (channel, start, end) already faulted

    def free(j: int, a: float, b: float) -> bool:
        return all(k != j or b < s - 1 or a > e + 1 for k, s, e in busy)

    def place(length: tuple[float, float]) -> tuple[int, float, float]:
        for _ in range(200):
            j = int(rng.integers(n_ch))
            lo, hi = blocks[int(rng.integers(len(blocks)))]
            d = float(rng.uniform(*length))
            d = min(d, max(hi - lo - 1.0, 0.3))
            a = float(rng.uniform(lo + 0.5, max(hi - d - 0.5, lo + 0.6)))
            if free(j, a, a + d) and a + d < duration:
                busy.append((j, a, a + d))
                return j, a, a + d
        raise ValueError("the session is too short to place its faults")

    def note(kind: str, j: int | None, a: float, b: float) -> None:
        truth.append({"kind": kind, "channel": "*" if j is None else muscles[j],
                      "start_s": round(a, 4), "end_s": round(b, 4)})  # fmt: skip

    # lift-off: hum and drift on a floating input, the muscle nearly gone
    j, a, b = place((3.0, 20.0))
    i0, i1 = np.searchsorted(t, [a, b])
    tt = t[i0:i1] - a
    hum = rng.uniform(0.2e-3, 3e-3) * np.sin(2 * np.pi * mains_hz * tt + rng.uniform(0, 6.3))
    drift_f = rng.uniform(0.1, 3.0)
    drift = rng.uniform(0.2e-3, 2e-3) * np.sin(2 * np.pi * drift_f * tt + rng.uniform(0, 6.3))
    emg[i0:i1, j] = 0.1 * emg[i0:i1, j] + hum + drift + rng.normal(0, 20e-6, i1 - i0)
    note("lift_off", j, a, b)

    # flat: one constant value
    j, a, b = place((1.0, 5.0))
    i0, i1 = np.searchsorted(t, [a, b])
    emg[i0:i1, j] = 0.0 if rng.random() < 0.5 else emg[i0, j]
    note("flat", j, a, b)

    # three pops: a fast step decaying slowly
    for _ in range(3):
        j, a, _b = place((0.5, 0.5))
        amp = rng.choice([-1, 1]) * rng.uniform(0.3e-3, 3e-3)
        rise, tau = rng.uniform(1e-3, 4e-3), rng.uniform(0.05, 0.5)
        i0 = int(np.searchsorted(t, a))
        i1 = min(n, i0 + int((rise + 6 * tau) * fs))
        tt = t[i0:i1] - a
        emg[i0:i1, j] += amp * np.minimum(tt / rise, 1.0) * np.exp(-np.maximum(tt - rise, 0) / tau)
        note("pop", j, a, a + rise + 3 * tau)

    # saturation: a transient beyond the rail, clipped there
    j, a, b = place((0.5, 2.0))
    i0, i1 = np.searchsorted(t, [a, b])
    tt = t[i0:i1] - a
    swing = rng.choice([-1, 1]) * rng.uniform(1.5, 4.0) * RAIL_V * np.sin(np.pi * tt / (b - a))
    emg[i0:i1, j] = np.clip(emg[i0:i1, j] + swing, -RAIL_V, RAIL_V)
    clipped = np.flatnonzero(np.abs(emg[i0:i1, j]) >= RAIL_V)
    note("saturation", j, float(t[i0 + clipped[0]]), float(t[i0 + clipped[-1]]))

    # gap over a burst onset, on every channel
    later = [(m, o) for m, o in onsets if 2.0 < o < duration - 1.0]
    if later:
        m, o = later[int(rng.integers(len(later)))]
        a = o - float(rng.uniform(0.0, 0.05))
        b = a + float(rng.uniform(0.05, 0.4))
        i0, i1 = np.searchsorted(t, [a, b])
        emg[i0:i1, :] = np.nan
        note("gap", None, float(t[i0]), float(t[i1 - 1]))
    return truth


def with_drop_outs(x: np.ndarray, fs: float, share: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of `x` (rows = samples at `fs` Hz) with NaN rows in gaps of 10-500 ms at random
    places until `share` (0-1) of it is lost (radio drop-outs)."""
    x = x.copy()
    while np.isnan(x[:, 0]).mean() < share:
        g = int(rng.uniform(0.01, 0.5) * fs)
        a = int(rng.uniform(0, len(x) - g))
        x[a : a + g] = np.nan
    return x
