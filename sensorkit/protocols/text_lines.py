"""Text lines of numbers, as an Arduino-style sketch prints them: bytes -> rows.

One line per sample, fields separated by commas, semicolons, tabs or spaces, e.g.
`123456,512,498,-312,45,16201,12,-7,3`. Pure code: what the columns mean (time,
EMG, IMU) and their scales are the driver's business (`devices/drivers/csv_lines.py`).
"""

from __future__ import annotations

import re

import numpy as np

SPLIT = re.compile(r"[,;\t ]+")


class LineParser:
    """Turns a byte stream into rows of `n_columns` numbers.

    A line is complete at its newline; the first piece after the port opened is
    dropped (the port opened mid-line), and lines that do not parse (a reset message,
    a line cut short, noise) are counted in `malformed` and skipped.
    """

    def __init__(self, n_columns: int) -> None:
        self.n_columns = n_columns
        self.lines = 0
        self.malformed = 0
        self._partial = b""
        self._synced = False

    def reset(self) -> None:
        """Forget the partial line (a board that reset starts afresh mid-line)."""
        self._partial, self._synced = b"", False

    def feed(self, data: bytes) -> np.ndarray:
        """The complete rows in `data` (and what was left over from before), shape (n, n_columns)."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if not self._synced and lines:  # the port opened mid-line: that first piece is no line
            lines.pop(0)
            self._synced = True
        rows = []
        for raw in lines:
            fields = SPLIT.split(raw.decode("ascii", "replace").strip())
            self.lines += 1
            try:
                if len(fields) != self.n_columns:
                    raise ValueError
                rows.append([float(f) for f in fields])
            except ValueError:
                self.malformed += 1
        return np.array(rows, dtype=np.float64).reshape(-1, self.n_columns)
