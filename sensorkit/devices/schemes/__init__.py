"""One module per device scheme (`sim://`, `file://`, `serial://`, `ble://`, `lsl://`): each turns
the spec's target and parameters into a Source. The table is `SCHEMES` in devices/spec.py."""
