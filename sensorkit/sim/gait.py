"""Simulated walking: pelvis kinematics of straight passes and turns, with true foot contacts.

The pelvis follows the textbook pattern of each step (Perry & Burnfield, Gait
Analysis; Zijlstra & Hof 2003 for trunk accelerations), with per-walker random
amplitudes and phases so that no detector can lean on one exact shape:

- vertical: lowest shortly after initial contact (loading), highest in mid-stance;
  a brief upward push (30-80 ms) at each foot strike;
- forward: propulsion rising through the step to a peak at contact, then braking
  falling steeply over the loading response (12-25 % of the step), as lower-back
  IMUs show (Zijlstra & Hof 2003; the real walks of benchmarks/bench_gait.py);
- sideways: over the stance foot at mid-stance, once per stride;
- rotation about the vertical: the swinging leg's side comes forward before its
  contact; obliquity: the swing side drops in stance (more with a weak hip
  abductor); a small anterior-posterior tilt twice per stride;
- turns: 180 deg at the end of each pass over 2-5 shorter, irregular, softer steps.

An impaired walker (`impairment` 0-1) walks slower, with asymmetric step times,
more step-to-step variability and a larger drop on one side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, sosfiltfilt


@dataclass
class GaitBout:
    """One walk: contacts (time s, side "L"/"R") and the walker's amplitudes."""

    contacts: list[tuple[float, str]] = field(default_factory=list)
    turns: list[tuple[float, float, float]] = field(default_factory=list)  # (t0, t1, degrees)
    softness: list[float] = field(default_factory=list)  # per contact, 1 = a full step
    speed: float = 1.2  # m/s
    vertical_acc: float = 1.5  # m/s^2, amplitude of the step-frequency vertical acceleration
    forward_acc: float = 2.0  # m/s^2, peak forward fluctuation
    sideways_m: float = 0.02
    rotation_deg: float = 4.0
    drop_deg: dict[str, float] = field(default_factory=dict)  # obliquity amplitude by stance side
    tilt_deg: float = 1.5
    impact_acc: float = 2.5  # m/s^2
    impact_s: float = 0.05  # duration of the foot-strike push
    low_phase: float = 0.1  # vertical low point, fraction of the step after contact
    rotation_phase: float = 0.2  # rad: lag of the rotation extreme after contact
    braking_share: float = 0.18  # of the step: the forward acceleration falls this long after contact

    @property
    def start_s(self) -> float:
        return self.contacts[0][0]

    @property
    def end_s(self) -> float:
        return self.contacts[-1][0]


def plan_walk(t: float, passes: int, impairment: float, rng, rotation: float = 1.0) -> GaitBout:
    """Contacts of `passes` straight passes of 8-14 steps joined by 180-deg turns, from time t;
    `rotation` scales the pelvis's rotation (negative: reversed)."""
    imp = float(np.clip(impairment, 0, 1))
    step = rng.uniform(0.48, 0.6) * (1 + 0.5 * imp)
    asym = 1 + imp * rng.uniform(0.05, 0.2) * rng.choice([-1, 1])  # left/right step-time ratio
    cv = rng.uniform(0.015, 0.03) + 0.06 * imp
    weak = str(rng.choice(["L", "R"]))
    bout = GaitBout(
        speed=rng.uniform(1.0, 1.4) * (1 - 0.45 * imp),
        vertical_acc=rng.uniform(0.8, 2.5) * (1 - 0.4 * imp),
        forward_acc=rng.uniform(1.2, 3.0) * (1 - 0.5 * imp),
        sideways_m=rng.uniform(0.015, 0.035) * (1 + 0.5 * imp),
        rotation_deg=rng.uniform(2.5, 6.0) * rotation,
        drop_deg={s: rng.uniform(2.0, 5.0) + (rng.uniform(2.0, 5.0) * imp if s == weak else 0.0) for s in "LR"},
        tilt_deg=rng.uniform(0.8, 2.5),
        impact_acc=rng.uniform(1.0, 4.0) * (1 - 0.5 * imp),
        impact_s=rng.uniform(0.03, 0.08),
        low_phase=rng.uniform(0.05, 0.18),
        rotation_phase=rng.uniform(0.0, 0.5),
    )  # fmt: skip
    side = str(rng.choice(["L", "R"]))
    for p in range(passes):
        for _ in range(int(rng.integers(8, 15))):
            bout.contacts.append((t, side))
            bout.softness.append(1.0)
            t += step * (asym if side == "L" else 1 / asym) * (1 + cv * rng.standard_normal())
            side = "R" if side == "L" else "L"
        if p + 1 < passes:
            n_turn = int(rng.integers(2, 6))
            t0 = t
            for _ in range(n_turn):
                bout.contacts.append((t, side))
                bout.softness.append(rng.uniform(0.5, 0.8))
                t += step * rng.uniform(0.75, 1.35)
                side = "R" if side == "L" else "L"
            bout.turns.append((t0 - 0.2, t + 0.1, float(rng.choice([-180.0, 180.0]))))
    bout.contacts.append((t, side))  # the closing step brings the feet together
    bout.softness.append(0.6)
    bout.braking_share = rng.uniform(0.12, 0.25)  # drawn last: each seed's steps and amplitudes stay as they were
    return bout


def _minjerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0, 1)
    return s**3 * (10 - 15 * s + 6 * s**2)


def _displacement(acc: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Twice-integrated acceleration with the drift of the integration removed (m)."""
    fs = 1.0 / (t[1] - t[0])
    disp = np.cumsum(np.cumsum(acc)) / fs**2
    return disp - sosfiltfilt(butter(2, 0.25, fs=fs, output="sos"), disp)


def gait_channels(bout: GaitBout, t: np.ndarray) -> dict[str, np.ndarray]:
    """Pelvis obliquity, tilt, rotation (deg) and x, y, z (m) of one walk, sampled at times t."""
    ch = {k: np.zeros(len(t)) for k in ("obliquity", "tilt", "rotation", "x", "y", "z")}
    ic = np.array([c[0] for c in bout.contacts])
    sign = np.array([1.0 if c[1] == "L" else -1.0 for c in bout.contacts])
    soft = np.array(bout.softness)
    first, last = ic[0] - (ic[1] - ic[0]), ic[-1]
    inside = (t >= first) & (t < last)
    k = np.clip(np.searchsorted(ic, t, side="right") - 1, 0, len(ic) - 2)
    dur = np.where(t < ic[0], ic[1] - ic[0], ic[k + 1] - ic[k])
    s = np.where(t < ic[0], (t - first) / (ic[1] - ic[0]), (t - ic[k]) / dur)
    side = np.where(t < ic[0], -sign[0], sign[k])  # stance side (+1 left) during the step
    # walking starts and stops smoothly over a step; turning steps are softer
    env = _minjerk((t - first) / (ic[0] - first)) * (1 - _minjerk((t - ic[-2]) / (last - ic[-2])))
    env = env * np.where(t < ic[0], 1.0, soft[k]) * inside
    # vertical and forward fluctuations are specified as accelerations (that is what the
    # literature reports) and integrated to displacement
    acc_z = env * bout.vertical_acc * np.cos(2 * np.pi * (s - bout.low_phase))
    # a sawtooth: from -1 at the end of braking up to +1 at contact, then down again (zero mean)
    b = bout.braking_share
    acc_fwd = env * bout.forward_acc * np.where(s < b, 1 - 2 * s / b, -1 + 2 * (s - b) / (1 - b))
    for t_ic, a in zip(ic, soft, strict=True):  # foot-strike: a brief upward and braking push
        lo, hi = np.searchsorted(t, [t_ic, t_ic + bout.impact_s])
        pulse = a * bout.impact_acc * np.sin(np.pi * (t[lo:hi] - t_ic) / bout.impact_s)
        acc_z[lo:hi] += pulse
        acc_fwd[lo:hi] -= 0.5 * pulse
    ch["z"] = _displacement(acc_z, t)
    forward = _displacement(acc_fwd, t)
    sideways = env * bout.sideways_m * side * np.sin(np.pi * s)
    ch["rotation"] = -env * bout.rotation_deg * side * np.cos(np.pi * s - bout.rotation_phase)
    drop = np.where(side > 0, bout.drop_deg.get("L", 3.0), bout.drop_deg.get("R", 3.0))
    ch["obliquity"] = env * drop * side * np.sin(np.pi * s)
    ch["tilt"] = env * bout.tilt_deg * np.cos(2 * np.pi * (s - 0.3))
    heading = np.zeros(len(t))
    for t0, t1, deg in bout.turns:
        heading += deg * _minjerk((t - t0) / (t1 - t0))
    ch["rotation"] += heading
    h = np.radians(heading)
    speed = bout.speed * _minjerk((t - first) / (ic[0] - first)) * (1 - _minjerk((t - ic[-2]) / (last - ic[-2])))
    speed = speed * np.where(t < ic[0], 1.0, 0.5 + 0.5 * soft[k])
    dt = np.diff(t, prepend=t[0])
    ch["x"] = np.cumsum(speed * np.cos(h) * dt) + forward * np.cos(h) - sideways * np.sin(h)
    ch["y"] = np.cumsum(speed * np.sin(h) * dt) + forward * np.sin(h) + sideways * np.cos(h)
    return ch
