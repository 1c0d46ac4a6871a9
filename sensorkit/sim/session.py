"""Render a simulated session: pelvis motion -> sacral IMU, excitation -> surface EMG.

The simulated patient wears a sacral IMU (mounted up to `misalignment_deg` off in
every axis, with gyro bias) and bipolar EMG electrodes; the returned
`SimRecording` holds the signals in SI units, the session markers and the ground
truth (onsets, movement onsets, pelvic drop), times in seconds from the start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt
from scipy.spatial.transform import Rotation

from sensorkit.sim import confounds
from sensorkit.sim.emg import motor_unit_emg
from sensorkit.sim.faults import add_faults
from sensorkit.sim.gait import gait_channels
from sensorkit.sim.plan import Dosage, Plan, build_plan

GRAVITY = 9.80665
KINEMATIC_RATE = 1000.0
MAX_EMG_HZ = 20000.0  # the highest EMG rate simulated (the simulator renders every sample)
DEFAULT_MUSCLES = (
    "glute_max_L", "glute_max_R", "glute_med_L", "glute_med_R",
    "biceps_femoris_L", "biceps_femoris_R", "erector_spinae_L", "erector_spinae_R",
)  # fmt: skip
# RMS (V) at half of maximal excitation, before per-electrode variation
MUSCLE_RMS = {"glute_max": 150e-6, "glute_med": 120e-6, "biceps_femoris": 150e-6,
              "erector_spinae": 80e-6, "tfl": 120e-6}  # fmt: skip


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulated session depends on; all defaults are a typical clinic."""

    scenario: str = "session"
    seed: int = 0
    fs_emg: float = 2000.0
    fs_imu: float = 200.0
    muscles: tuple[str, ...] = DEFAULT_MUSCLES
    dose: Dosage = field(default_factory=Dosage)
    noise_uv: float = 3.0  # baseline noise RMS, microvolts
    mains_hz: float = 50.0
    mains_uv: float = 10.0  # mains amplitude, microvolts (0: none)
    ecg_uv: float = 120.0  # R-wave amplitude on trunk muscles, microvolts (0: none)
    artefacts: bool = True
    misalignment_deg: float = 20.0  # max IMU mounting error about each axis
    gyro_bias_dps: float = 2.0  # max gyro bias per axis, deg/s
    markers: bool = True
    # How each burst's drive rises from its onset (the truth is where it starts to rise):
    # "exp", an exponential approach (10-90 % in 10-80 ms; steepest at the onset), or
    # "varied": linear, raised-cosine or exponential, 10-90 % in 20-150 ms, per burst;
    # slow, smooth starts recruit the first small units sparsely, as real ramps do.
    onset_ramps: str = "exp"
    rise_ms: tuple[float, float] = (20.0, 150.0)  # 10-90 % rise time range of "varied" ramps
    # a lift-off, a flat stretch, three pops, a saturation and a lost-sample gap
    # (`sensorkit.sim.faults`), their times in the truth's `faults`
    faults: bool = False
    # the shape of the exercises' movements: "minjerk" (smooth start, angular rate ~ t^2) or
    # "cosine" (a raised cosine, starting with a finite acceleration: rate ~ t)
    motion_profile: str = "minjerk"
    # Variations of the EMG model, so that no detector default rests on one simulator
    # (benchmarks/bench_onset.py's variations table); the defaults are the model as it was.
    noise_colour: float = 0.0  # the broadband noise's slope, power ~ 1/f^colour (0 white, 1 pink)
    tonic: float = 0.0  # steady drive added to every muscle (excitation; the smallest unit recruits at first_unit)
    first_unit: float = 0.01  # excitation that recruits each muscle's smallest motor unit
    crosstalk: float = 1.0  # multiple of the glutes' usual crosstalk (3-8 % of the neighbour)
    # the motor-unit action potentials' widths as a multiple of 0.7-2.4 ms; 2 halves the EMG's
    # median frequency (~110 -> ~55 Hz), as deep muscles under a thick fat layer show
    muap_scale: float = 1.0
    # each action potential begins at its unit's discharge (its peak 4-14 ms later), as a
    # fibre's potential reaches the skin after the discharge that excited it; False centres it
    # on the discharge (half of it before its cause: the EMG of the same drive ~5 ms earlier),
    # as the simulator did until 2026-12
    muap_after_discharge: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.fs_emg <= MAX_EMG_HZ:
            raise ValueError(f"fs_emg must lie above 0 and at most {MAX_EMG_HZ:g} Hz, not {self.fs_emg:g}")
        if not 0 < self.fs_imu <= KINEMATIC_RATE:  # the IMU samples the kinematics
            raise ValueError(f"fs_imu must lie above 0 and at most {KINEMATIC_RATE:g} Hz, not {self.fs_imu:g}")
        if min(self.noise_uv, self.mains_uv, self.ecg_uv, self.misalignment_deg, self.gyro_bias_dps) < 0:
            raise ValueError("noise_uv, mains_uv, ecg_uv, misalignment_deg and gyro_bias_dps must be >= 0")
        if not 10 <= self.mains_hz <= 1000:
            raise ValueError(f"mains_hz must lie in 10-1000 Hz (50 or 60), not {self.mains_hz:g}")
        if self.motion_profile not in PROFILES:
            raise ValueError(f"motion_profile must be one of {', '.join(PROFILES)}, not {self.motion_profile!r}")
        if self.onset_ramps not in ("exp", "varied"):
            raise ValueError(f"onset_ramps must be 'exp' or 'varied', not {self.onset_ramps!r}")
        if not 0 < self.first_unit < 0.6:
            raise ValueError(f"first_unit must lie between 0 and 0.6 (the largest unit's), not {self.first_unit}")
        if not (0 <= self.tonic < 1 and self.crosstalk >= 0 and 0 <= self.noise_colour <= 2):
            raise ValueError("tonic must lie in [0, 1), crosstalk be >= 0 and noise_colour in [0, 2]")
        if not 0.25 <= self.muap_scale <= 4:
            raise ValueError(f"muap_scale must lie between 0.25 and 4, not {self.muap_scale}")


@dataclass
class SimRecording:
    config: SimConfig
    emg: np.ndarray  # (n, muscles), V
    imu: np.ndarray  # (m, 6): acc m/s^2, gyr rad/s, sensor frame
    markers: list[tuple[float, str]]
    truth: dict
    true_up: np.ndarray | None = None  # (m, 3) unit up vector in the sensor frame at each IMU sample
    true_orientation: np.ndarray | None = None  # (m, 4) room-from-sensor quaternions (x, y, z, w), z up

    @property
    def duration(self) -> float:
        return len(self.emg) / self.config.fs_emg


def _minjerk(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    s = np.clip((t - t0) / max(t1 - t0, 1e-9), 0, 1)
    return s**3 * (10 - 15 * s + 6 * s**2)


def _cosine(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """A raised cosine: starts with a finite acceleration (angular rate ~ t), where a
    minimum-jerk profile starts with none (rate ~ t^2)."""
    s = np.clip((t - t0) / max(t1 - t0, 1e-9), 0, 1)
    return (1 - np.cos(np.pi * s)) / 2


PROFILES = {"minjerk": _minjerk, "cosine": _cosine}


def _smooth_noise(n: int, fs: float, cutoff: float, rms: float, rng) -> np.ndarray:
    sos = butter(4, cutoff, fs=fs, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal(n))
    return rms * x / max(float(np.std(x)), 1e-12)


def pelvis_motion(plan: Plan, rng, heading_deg: float, profile: str = "minjerk",
                  lying_sway: float = 1.0) -> tuple[np.ndarray, Rotation, np.ndarray]:  # fmt: skip
    """Time (s), pelvis orientation in the room and pelvis position (m) at KINEMATIC_RATE;
    `profile`: the shape of every movement of the exercises (`PROFILES`); `lying_sway`: the
    postural sway while lying as a multiple of standing's."""
    # one extra sample either side, so that derivatives exist at the first and last IMU sample
    n = int(plan.duration * KINEMATIC_RATE) + 2
    t = (np.arange(n) - 1) / KINEMATIC_RATE
    ch = {k: np.zeros(n) for k in ("obliquity", "tilt", "rotation", "x", "y", "z")}
    shape = PROFILES[profile]
    for p in plan.pulses:
        ch[p.channel] += p.peak * (shape(t, p.t0, p.t1) - shape(t, p.t2, p.t3))
    for walk in plan.walks:
        for k, v in gait_channels(walk, t).items():
            ch[k] += v
    sway = {k: _smooth_noise(n, KINEMATIC_RATE, 0.8, rms, rng)  # postural sway, deg
            for k, rms in (("obliquity", 0.3), ("tilt", 0.4), ("rotation", 0.6))}  # fmt: skip
    sway |= {k: _smooth_noise(n, KINEMATIC_RATE, 0.8, 0.002, rng) for k in "xyz"}  # m
    pitch, roll = np.zeros(n), np.zeros(n)
    if plan.postures:
        pitch[:], roll[:] = plan.postures[0].start
    turns = [_minjerk(t, pc.t0, pc.t1) for pc in plan.postures]
    for pc, s in zip(plan.postures, turns, strict=True):
        after = t >= pc.t0
        pitch[after] = (pc.start[0] + (pc.end[0] - pc.start[0]) * s)[after]
        roll[after] = (pc.start[1] + (pc.end[1] - pc.start[1]) * s)[after]
    # lying, the sway is `lying_sway` times standing's (1 where upright, blended through the turn)
    scale = 1.0 + (lying_sway - 1.0) * np.abs(pitch) / 90.0
    for k, v in sway.items():
        ch[k] += v * scale
    for pc, s in zip(plan.postures, turns, strict=True):
        ch["z"] += pc.drop_m * s
    heading = Rotation.from_euler("z", heading_deg, degrees=True)
    def rot(axis: str, deg: np.ndarray) -> Rotation:
        return Rotation.from_euler(axis, deg[:, None], degrees=True)

    orientation = (
        heading
        * rot("y", pitch)
        * rot("z", roll)
        * rot("z", ch["rotation"])
        * rot("y", ch["tilt"])
        * rot("x", ch["obliquity"])
    )
    position = heading.apply(np.column_stack([ch["x"], ch["y"], ch["z"]]))
    return t, orientation, position


def _imu_rows(n_kinematic: int, fs_imu: float) -> np.ndarray:
    """Kinematic samples at which the IMU samples: IMU sample k is at k / fs_imu, on the
    kinematic sample nearest it (exactly where fs_imu divides KINEMATIC_RATE, else within half
    a kinematic sample, 0.5 ms). A whole step of round(KINEMATIC_RATE / fs_imu) samples, as
    before December 2026, sampled a 128-Hz IMU (an APDM Opal's rate) at 125 Hz under a 128-Hz
    label: its walks came out 2 % fast and their contacts up to a second early."""
    count = int(np.floor((n_kinematic - 2) * fs_imu / KINEMATIC_RATE - 1e-9)) + 1
    rows = 1 + np.round(np.arange(count) * KINEMATIC_RATE / fs_imu).astype(np.int64)
    return rows[rows < n_kinematic - 1]


def sensor_orientation(orientation: Rotation, mount: Rotation, fs_imu: float) -> Rotation:
    """The true room-from-sensor orientation at each IMU sample (what orientation filters estimate)."""
    return orientation[_imu_rows(len(orientation), fs_imu)] * mount


def imu_signals(orientation: Rotation, position: np.ndarray, fs_imu: float,
                mount: Rotation, gyro_bias: np.ndarray, rng) -> np.ndarray:  # fmt: skip
    """Accelerometer (m/s^2) and gyroscope (rad/s) of a sensor mounted at `mount` on the pelvis."""
    idx = _imu_rows(len(position), fs_imu)
    dt = 1 / KINEMATIC_RATE
    omega_pelvis = (orientation[idx - 1].inv() * orientation[idx + 1]).as_rotvec() / (2 * dt)
    gyr = mount.inv().apply(omega_pelvis)
    acc_world = (position[idx + 1] - 2 * position[idx] + position[idx - 1]) / dt**2
    acc_world[:, 2] += GRAVITY  # an accelerometer at rest reads +1 g upwards
    acc = (orientation[idx] * mount).inv().apply(acc_world)
    n = len(idx)
    walk = np.cumsum(rng.normal(0, 2e-5, (n, 3)), axis=0)  # slow bias drift, rad/s
    gyr = gyr + gyro_bias + walk + rng.normal(0, 0.004, (n, 3))
    acc = acc + rng.uniform(-0.05, 0.05, 3) + rng.normal(0, 0.03, (n, 3))
    return np.column_stack([acc, gyr])


def pelvic_obliquity_deg(orientation: Rotation) -> np.ndarray:
    """Elevation of the pelvis's left-right axis above the horizontal (deg, left up > 0)."""
    left = orientation.apply([0.0, 1.0, 0.0])
    return np.degrees(np.arcsin(np.clip(left[:, 2], -1, 1)))


RAMP_SHAPES = ("linear", "raised_cosine", "exp")


def drive_rise(dt: np.ndarray, shape: str, rise_s: float) -> np.ndarray:
    """A drive's rise from 0 (at dt = 0, s) towards 1 whose 10-90 % rise takes `rise_s`."""
    dt = np.maximum(dt, 0.0)
    if shape == "linear":  # 0 to 1 over T: 10-90 % is 0.8 T
        return np.minimum(dt / (rise_s / 0.8), 1.0)
    if shape == "raised_cosine":  # 0.5 - 0.5 cos(pi t / T): 10-90 % is 0.5903 T
        return 0.5 - 0.5 * np.cos(np.pi * np.minimum(dt / (rise_s / 0.5903), 1.0))
    return 1 - np.exp(-dt / (rise_s / np.log(9)))  # 10-90 % is tau ln 9


def burst_ramps(plan: Plan, cfg: SimConfig) -> list[tuple[str, float] | None]:
    """Each burst's (shape, 10-90 % rise s) under `cfg.onset_ramps == "varied"` (else None):
    drawn from their own generator, so the session's other randomness stays as it was."""
    if cfg.onset_ramps != "varied":
        return [None] * len(plan.bursts)
    rng = np.random.default_rng([cfg.seed, 13])
    return [(RAMP_SHAPES[int(rng.integers(len(RAMP_SHAPES)))], float(rng.uniform(*cfg.rise_ms)) / 1000)
            for _ in plan.bursts]  # fmt: skip


def _excitation(plan: Plan, muscle: str, t: np.ndarray, rng, ramps: list | None = None,
                tonic: float = 0.0) -> np.ndarray:  # fmt: skip
    e = np.full(t.size, plan.tonic.get(muscle, 0.0) + tonic)
    for b, ramp in zip(plan.bursts, ramps or [None] * len(plan.bursts), strict=True):
        if b.muscle != muscle:
            continue
        lo, hi = np.searchsorted(t, [b.onset, b.off + b.fall])
        tt = t[lo:hi]
        if ramp is None:
            rise = b.level * (1 - np.exp(-(tt - b.onset) / b.tau))
        else:
            rise = b.level * drive_rise(tt - b.onset, *ramp)
        e[lo:hi] += rise * (1 - _minjerk(tt, b.off, b.off + b.fall))
    tremor = 1 + 0.08 * _smooth_noise(t.size, 1 / (t[1] - t[0]), 3.0, 1.0, rng)
    return np.clip(e * tremor, 0, 1)


MIN_RENDER_HZ = 1000.0  # muscles are rendered at least this fast (render_emg)


def render_emg(plan: Plan, cfg: SimConfig, rng, truth: dict | None = None) -> np.ndarray:
    """The EMG channels (V). `truth` (a dict) gets each channel's amplifier noise RMS and
    ECG R wave (uV) and the motion artefacts added."""
    truth = {} if truth is None else truth
    truth.update(noise_uv={}, ecg_uv={}, motion_artefacts=[])
    n = int(plan.duration * cfg.fs_emg)
    t = np.arange(n) / cfg.fs_emg
    clean = np.zeros((n, len(cfg.muscles)))
    ramps = burst_ramps(plan, cfg)
    # below 1 kHz (an OpenBCI Cyton's 250 Hz, a Myo's 200 Hz) the muscles are rendered at a
    # multiple of the rate and decimated through an anti-alias low-pass, as a converter
    # samples them: potentials of 0.7-2.4 ms drawn at 4-5 ms per sample would alias their
    # spectrum into the band
    up = int(np.ceil(MIN_RENDER_HZ / cfg.fs_emg)) if cfg.fs_emg < MIN_RENDER_HZ else 1
    t_render = t if up == 1 else np.arange(n * up) / (cfg.fs_emg * up)
    for j, m in enumerate(cfg.muscles):
        rms = MUSCLE_RMS.get(m.rsplit("_", 1)[0], 100e-6) * rng.uniform(0.7, 1.3)
        x = motor_unit_emg(_excitation(plan, m, t_render, rng, ramps, cfg.tonic), cfg.fs_emg * up, rng,
                           rms_at_half=rms, first_threshold=cfg.first_unit, muap_scale=cfg.muap_scale,
                           muap_after_discharge=cfg.muap_after_discharge)  # fmt: skip
        clean[:, j] = x if up == 1 else resample_poly(x, 1, up)[:n]
    out = clean.copy()
    # crosstalk from neighbours on the same side
    for j, m in enumerate(cfg.muscles):
        side = m[-1]
        for k, other in enumerate(cfg.muscles):
            if k != j and other[-1] == side and {m[:-2], other[:-2]} <= {"glute_max", "glute_med"}:
                out[:, j] += cfg.crosstalk * rng.uniform(0.03, 0.08) * clean[:, k]
    # one heart, seen by every lead; from its own generator, so that the rest of a session
    # (motor units, noise, artefacts) is what the same seed gave before the heart was shared
    heart = confounds.ecg(t, 1.0, np.random.default_rng([cfg.seed, 16])) if cfg.ecg_uv > 0 else None
    for j, m in enumerate(cfg.muscles):
        noise = cfg.noise_uv * rng.uniform(0.7, 1.4)
        out[:, j] += confounds.amplifier_noise(n, cfg.fs_emg, noise * 1e-6, rng, cfg.noise_colour)
        truth["noise_uv"][m] = round(float(noise), 3)  # white 0.9 of it and 1/f 0.45 (confounds)
        out[:, j] += confounds.baseline_wander(n, cfg.fs_emg, rng.uniform(10e-6, 40e-6), rng)
        out[:, j] += rng.uniform(-2e-3, 2e-3)  # electrode DC offset
        if cfg.mains_uv > 0:
            out[:, j] += confounds.mains_hum(t, cfg.mains_hz, cfg.mains_uv * 1e-6 * rng.uniform(0.3, 1.5), rng)
        if heart is not None:
            weight = 1.0 if m.startswith("erector_spinae") else 0.08
            r_wave = weight * cfg.ecg_uv * rng.uniform(0.6, 1.2)
            out[:, j] += r_wave * 1e-6 * heart
            confounds.skip_ecg_draws(t, rng)  # the draws each lead's own heart once took
            truth["ecg_uv"][m] = round(float(r_wave), 3)
        if cfg.artefacts:
            for at in plan.artefact_times:
                if rng.random() < 0.5:
                    wave = confounds.motion_artefact(t, at, rng.uniform(20e-6, 150e-6), rng)
                    out[:, j] += wave
                    on = np.flatnonzero(wave) / cfg.fs_emg
                    span = {"start_s": round(on[0], 4), "end_s": round(on[-1], 4),
                            "peak_uv": round(float(np.max(np.abs(wave))) * 1e6, 1)}
                    truth["motion_artefacts"].append({"kind": "motion_artefact", "channel": m, **span})
    return out


def _pelvic_drop_truth(plan: Plan, t: np.ndarray, obliquity: np.ndarray) -> None:
    """Add each single-leg repetition's true peak drop (deg) and its time to the plan's truth."""
    lo, hi = np.searchsorted(t, plan.calibration["standing"][0])
    zero = float(np.mean(obliquity[lo:hi]))
    for block in plan.exercises:
        if block["exercise"] not in ("single_leg_squat", "step_down", "single_leg_stance"):
            continue
        sign = 1.0 if block["side"] == "L" else -1.0  # left end up == right side down
        for rep in block["reps"]:
            a, b = np.searchsorted(t, [rep["start_s"], rep["end_s"]])
            drop = sign * (obliquity[a:b] - zero)
            k = int(np.argmax(np.abs(drop)))
            rep["pelvic_drop_deg"] = round(float(drop[k]), 4)
            rep["pelvic_drop_peak_s"] = round(float(t[a + k]), 4)


def simulate(cfg: SimConfig) -> SimRecording:
    """Simulate one session; deterministic for a given config (including its seed)."""
    rng = np.random.default_rng(cfg.seed)
    plan = build_plan(cfg.scenario, tuple(cfg.muscles), cfg.dose, rng)
    heading = float(rng.uniform(-180, 180))
    mis = rng.uniform(-cfg.misalignment_deg, cfg.misalignment_deg, 3)
    mount = Rotation.from_euler("xyz", mis, degrees=True)
    bias = np.radians(rng.uniform(-cfg.gyro_bias_dps, cfg.gyro_bias_dps, 3))
    t_kin, orientation, position = pelvis_motion(plan, rng, heading, cfg.motion_profile, cfg.dose.lying_sway)
    imu = imu_signals(orientation, position, cfg.fs_imu, mount, bias, rng)
    _pelvic_drop_truth(plan, t_kin, pelvic_obliquity_deg(orientation))
    emg_truth: dict = {}
    emg = render_emg(plan, cfg, rng, emg_truth)
    truth = {
        "scenario": cfg.scenario,
        "config": {k: v for k, v in asdict(cfg).items() if k != "dose"} | {"dose": asdict(cfg.dose)},
        "duration_s": plan.duration,
        "mounting": {"misalignment_xyz_deg": mis.round(3).tolist(), "heading_deg": round(heading, 3),
                     "gyro_bias_rad_s": bias.round(6).tolist()},  # fmt: skip
        "calibration": plan.calibration,
        "exercises": plan.exercises,
        "markers": [[round(t, 4), text] for t, text in plan.markers],
        "emg": {"noise_uv": emg_truth["noise_uv"], "ecg_uv": emg_truth["ecg_uv"]},  # per channel
    }
    if cfg.onset_ramps == "varied":  # how each onset's drive rose, for benchmarks by rise time
        truth["onset_ramps"] = [{"muscle": b.muscle, "onset_s": b.onset, "shape": r[0], "rise_ms": round(r[1] * 1e3, 2)}
                                for b, r in zip(plan.bursts, burst_ramps(plan, cfg), strict=True)]  # fmt: skip
    if cfg.faults:  # own RNG: the session is the same with and without its faults
        onsets = [(b.muscle, b.onset) for b in plan.bursts]
        truth["faults"] = add_faults(emg, cfg.fs_emg, tuple(cfg.muscles), plan.exercises, onsets, cfg.mains_hz,
                                     np.random.default_rng([cfg.seed, 15])) + emg_truth["motion_artefacts"]  # fmt: skip
    markers = plan.markers if cfg.markers else []
    sensor = sensor_orientation(orientation, mount, cfg.fs_imu)
    return SimRecording(cfg, emg, imu, markers, truth, sensor.inv().apply([0.0, 0.0, 1.0]), sensor.as_quat())
