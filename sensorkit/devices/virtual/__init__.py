"""Simulated firmware: units that speak the real protocols from simulated patients, on a
virtual clock or a pseudo-terminal (`sensorkit virtual-device`, the tests)."""
