"""sensorkit: wearable IMU and surface EMG for glute activation timing and pelvic drop."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sensorkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
