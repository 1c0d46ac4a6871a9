"""Movement onset from a reference channel (a goniometer's angle): `signal_movements` on
simulated knee movements of four shapes (minimum jerk, raised cosine, ramp, exponential
approach), at 1 kHz / 100 Hz / 50 Hz, large and small ranges, three noise levels.

Truth is where the simulated movement starts. Prints, per condition: repetitions found
and false, median |error|, p95 |error|, median error (bias), in ms.

    .venv/bin/python benchmarks/bench_reference_channel.py
"""

from __future__ import annotations

import numpy as np

from sensorkit.dsp.movement import signal_movements

PROFILES = {
    "min-jerk": lambda k: 10 * k**3 - 15 * k**4 + 6 * k**5,
    "cosine": lambda k: (1 - np.cos(np.pi * k)) / 2,
    "ramp": lambda k: np.clip(k * 1.25, 0, 1),
    "exp": lambda k: 1 - np.exp(-5 * k),
}
CONDITIONS = [  # (rate Hz, range deg (low, high), noise deg)
    (1000.0, (35, 70), 0.2), (1000.0, (5, 10), 0.2), (1000.0, (35, 70), 1.0), (100.0, (35, 70), 0.5),
    (50.0, (20, 40), 0.5),
]  # fmt: skip


def session(profile, fs: float, amp: tuple[float, float], noise: float, rng) -> tuple[np.ndarray, list[float]]:
    """40 s of rest-move-hold-return cycles from 10 deg; returns (angle, true onsets s)."""
    n = int(40 * fs)
    x, onsets, t = np.full(n, 10.0), [], 3.0
    while t < 35:
        dur, size, hold = rng.uniform(0.4, 1.5), rng.uniform(*amp), rng.uniform(0.0, 1.0)
        a = int(t * fs)
        shape = profile(np.arange(int(dur * fs)) / (dur * fs))
        x[a : a + len(shape)] = 10 + size * shape
        b = a + len(shape) + int(hold * fs)
        x[a + len(shape) : b] = 10 + size
        x[b : b + len(shape)] = 10 + size * (1 - shape)
        onsets.append(t)
        t += 2 * dur + hold + rng.uniform(1.5, 3)
    return x + rng.normal(0, noise, n), onsets


def main() -> None:
    print(f"{'profile':<10}{'rate':>6}{'range deg':>11}{'noise':>7}{'found':>9}{'false':>7}"
          f"{'med|e|':>8}{'p95':>7}{'bias':>7}  (ms)")  # fmt: skip
    worst = 0.0
    for name, profile in PROFILES.items():
        for fs, amp, noise in CONDITIONS:
            rng = np.random.default_rng(0)
            errs, total, found_n, false = [], 0, 0, 0
            for _ in range(20):
                x, truth = session(profile, fs, amp, noise, rng)
                found = [m.onset_s for m in signal_movements(x, fs)]
                total += len(truth)
                for o in truth:
                    near = [f for f in found if abs(f - o) < 0.3]
                    if near:
                        found_n += 1
                        errs.append((near[0] - o) * 1000)
                false += sum(1 for f in found if min(abs(f - o) for o in truth) >= 0.3)
            e = np.array(errs)
            worst = max(worst, float(np.median(np.abs(e))))
            print(f"{name:<10}{fs:>6.0f}{f'{amp[0]}-{amp[1]}':>11}{noise:>7.1f}{f'{found_n}/{total}':>9}{false:>7}"
                  f"{np.median(np.abs(e)):>8.1f}{np.percentile(np.abs(e), 95):>7.1f}{np.median(e):>7.1f}")  # fmt: skip
    print(f"reference channel: worst median |error| {worst:.1f} ms over {len(PROFILES) * len(CONDITIONS)} conditions")


if __name__ == "__main__":
    main()
