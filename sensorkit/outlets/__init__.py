"""Consumers that publish what sensorkit acquires (an LSL outlet)."""
