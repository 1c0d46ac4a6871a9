"""Simulated patients: synthetic sacral IMU and surface EMG with ground truth."""

from sensorkit.sim.plan import SCENARIOS, Dosage
from sensorkit.sim.session import DEFAULT_MUSCLES, SimConfig, SimRecording, simulate

__all__ = ["SCENARIOS", "DEFAULT_MUSCLES", "Dosage", "SimConfig", "SimRecording", "simulate"]
