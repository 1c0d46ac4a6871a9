"""Transports move bytes in and out (serial, BLE) and know nothing of their meaning;
`Transport` (transports/base.py) is what every driver needs of one."""
