"""IMU units checked against physics, whatever a file's header claims.

A header can say m/s^2 and rad/s over data in g and deg/s (or the reverse); taken at
its word, such data gives pelvic drops of 80-100 degrees and twice the true cadence.
Physics settles it: at rest an accelerometer reads gravity, 9.81 m/s^2, so the
median magnitude of a recording (mostly standing, sitting or walking) lies near
9.81 in m/s^2, near 1 in g and near 1000 in mg; and a pelvis never turns at more than
about 10 rad/s (570 deg/s: the fastest trunk rotations in sport stay below that), so
a gyroscope reading 20 or more "rad/s" is in deg/s.
"""

from __future__ import annotations

import numpy as np

G = 9.80665  # m/s^2 per g
GRAVITY_RANGE = (7.0, 13.0)  # m/s^2: the median |acc| of a body-worn sensor in SI units
MAX_PELVIS_RATE = 20.0  # rad/s; p99.9 above this is deg/s data


def check_imu_units(acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(acc m/s^2, gyr rad/s, warnings) with units that contradict physics corrected.

    `acc` (n, 3) and `gyr` (n, 3) are as the header's units made them. Raises
    ValueError when the accelerometer fits no known unit (its median magnitude is not
    gravity in m/s^2, g or mg), since no angle computed from it could be right.
    """
    warnings = []
    with np.errstate(invalid="ignore"):
        mag = np.linalg.norm(acc, axis=1)
    level = float(np.nanmedian(mag)) if np.isfinite(mag).any() else np.nan
    if not np.isfinite(level):
        raise ValueError("the accelerometer holds no finite samples")
    lo, hi = GRAVITY_RANGE
    if not lo <= level <= hi:
        for factor, unit in ((G, "g"), (G / 1000, "mg"), (1 / G, "m/s^2 (its header says g)")):
            if lo <= level * factor <= hi:
                acc = acc * factor
                warnings.append(f"the accelerometer reads {level:.3g} m/s^2 at rest where gravity is 9.81: its "
                                f"data are in {unit}, not the unit its header states; converted")  # fmt: skip
                break
        else:
            raise ValueError(f"the accelerometer's median magnitude is {level:.3g} in the header's unit, "
                             "which is gravity in none of m/s^2, g or mg: check the stream's units")  # fmt: skip
    with np.errstate(invalid="ignore"):
        rate = np.linalg.norm(gyr, axis=1)
    fast = float(np.nanpercentile(rate, 99.9)) if np.isfinite(rate).any() else 0.0
    if fast > MAX_PELVIS_RATE:
        gyr = gyr * (np.pi / 180)
        warnings.append(f"the gyroscope turns at up to {fast:.0f} 'rad/s', which no pelvis does: its data are "
                        "in deg/s, not the unit its header states; converted")  # fmt: skip
    return acc, gyr, warnings
