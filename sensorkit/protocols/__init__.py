"""Wire protocols: bytes <-> frames. Pure code: no I/O, no threads."""
