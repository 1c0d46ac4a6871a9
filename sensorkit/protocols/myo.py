"""Thalmic Labs Myo armband over Bluetooth LE (firmware_protocols/myo/PROTOCOL.md).

Pure constants and payload parsers, after Thalmic's published `myohw.h`: 128-bit
UUIDs are d506XXXX-a904-deb9-4748-2c7f4a124842 with XXXX the short id; EMG comes as
two 8-channel int8 samples per notification on four characteristics in turn (200 Hz
in all), IMU as 20 bytes at 50 Hz (quaternion, accelerometer, gyroscope, int16
little-endian as the armband's ARM core and every working driver have it).
"""

from __future__ import annotations

import struct

import numpy as np


def uuid(short: int) -> str:
    return f"d506{short:04x}-a904-deb9-4748-2c7f4a124842"


CONTROL_SERVICE = uuid(0x0001)
COMMAND = uuid(0x0401)
IMU_DATA = uuid(0x0402)
EMG_DATA = tuple(uuid(s) for s in (0x0105, 0x0205, 0x0305, 0x0405))  # in the order samples come

EMG_RATE_HZ = 200.0
IMU_RATE_HZ = 50.0
N_EMG = 8
ORIENTATION_SCALE = 16384.0
ACCEL_PER_G = 2048.0
GYRO_PER_DPS = 16.0

# commands: header (command, payload size) + payload
EMG_MODE_RAW = 0x03  # unfiltered EMG
IMU_MODE_DATA = 0x01
SLEEP_NEVER, SLEEP_NORMAL = 0x01, 0x00


def set_mode(emg_mode: int, imu_mode: int, classifier: int = 0) -> bytes:
    return bytes([0x01, 3, emg_mode, imu_mode, classifier])


def set_sleep_mode(mode: int) -> bytes:
    return bytes([0x09, 1, mode])


START = (set_sleep_mode(SLEEP_NEVER), set_mode(EMG_MODE_RAW, IMU_MODE_DATA))
STOP = (set_mode(0, 0), set_sleep_mode(SLEEP_NORMAL))


def emg_samples(payload: bytes) -> np.ndarray:
    """The two 8-channel samples (2, 8) of one EMG notification, raw int8 values."""
    if len(payload) != 16:
        raise ValueError(f"Myo EMG notification of {len(payload)} bytes (want 16)")
    return np.frombuffer(payload, dtype=np.int8).reshape(2, N_EMG).astype(np.float32)


def imu_sample(payload: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(quaternion w x y z, acceleration g, angular rate deg/s) of one IMU notification."""
    if len(payload) != 20:
        raise ValueError(f"Myo IMU notification of {len(payload)} bytes (want 20)")
    v = np.array(struct.unpack("<10h", payload), dtype=np.float64)
    return v[:4] / ORIENTATION_SCALE, v[4:7] / ACCEL_PER_G, v[7:] / GYRO_PER_DPS


def emg_payload(samples: np.ndarray) -> bytes:
    """One EMG notification for two samples (2, 8) of int8 values (what a Myo sends)."""
    return np.asarray(samples, dtype=np.int8).reshape(2, N_EMG).tobytes()


def imu_payload(quat: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray) -> bytes:
    v = np.concatenate([np.asarray(quat) * ORIENTATION_SCALE, np.asarray(acc_g) * ACCEL_PER_G,
                        np.asarray(gyr_dps) * GYRO_PER_DPS])  # fmt: skip
    return struct.pack("<10h", *np.clip(np.round(v), -32768, 32767).astype(int))
