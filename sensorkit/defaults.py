"""Defaults every layer shares, importable without numpy or scipy.

`sensorkit --help` shows them and must start at once, so they live here rather than
in the modules that explain and use them (each says why its value was chosen):
`sensorkit.analysis.timing` (the delay margin), `sensorkit.analysis.pelvic_drop`
(the drop threshold), `sensorkit.dsp.onset` (the detectors).
"""

DELAY_MARGIN_MS = 50.0  # a glute later than this after its reference is delayed (see analysis.timing)
DROP_THRESHOLD_DEG = 5.0  # a pelvic drop above this is flagged (see analysis.pelvic_drop)
DETECTORS = ("threshold", "tkeo", "double_threshold", "changepoint")  # onset detectors (see dsp.onset)
DEFAULT_DETECTOR = "tkeo"
