"""Drivers: a protocol (sensorkit.protocols) over a transport -> `Chunk`s on the host clock,
with reconnection, gap filling and health (sk1, OpenBCI Cyton, Myo, text lines)."""
