"""kill -9 of a recording process leaves a file pyxdf loads, missing at most ~1 s."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyxdf


def test_kill_9_loses_at_most_about_a_second(tmp_path):
    out = tmp_path / "killed.xdf"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorkit", "record", "sim://single_leg_squat?speed=1&seed=2",
         "-o", str(out), "--patient", "P002"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or out.stat().st_size < 400_000:  # a few seconds of data
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "recording never got going"
            time.sleep(0.1)
        time.sleep(1.5)
        killed_at = time.monotonic()  # CLOCK_MONOTONIC: the same clock as the file's timestamps
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    streams, _ = pyxdf.load_xdf(str(out))
    emg = next(s for s in streams if s["info"]["name"][0] == "emg")
    imu = next(s for s in streams if s["info"]["name"][0] == "pelvis")
    assert len(emg["time_stamps"]) > 4000 and len(imu["time_stamps"]) > 400
    assert killed_at - emg["time_stamps"][-1] < 1.2
    assert killed_at - imu["time_stamps"][-1] < 1.2
    assert "footer" not in emg  # it really died before closing
    assert np.isfinite(emg["time_series"]).all()


def test_ctrl_c_closes_the_file_cleanly(tmp_path):
    out = tmp_path / "stopped.xdf"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorkit", "record", "sim://calibration?speed=1", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not out.exists() or out.stat().st_size < 100_000:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "stopped by user" in stdout
    streams, _ = pyxdf.load_xdf(str(out))
    emg = next(s for s in streams if s["info"]["name"][0] == "emg")
    assert int(emg["footer"]["info"]["sample_count"][0]) == len(emg["time_stamps"]) > 0
