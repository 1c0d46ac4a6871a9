"""LSL round trips on loopback: an outlet made here feeds lsl://, and sensorkit's outlet feeds a plain
pylsl inlet."""

import threading
import time

import numpy as np
import pytest

pylsl = pytest.importorskip("pylsl")
# LSL finds streams over the loopback network, across processes: one xdist worker runs these
pytestmark = pytest.mark.xdist_group("lsl")

from sensorkit.acquisition import Acquisition  # noqa: E402
from sensorkit.cli import main  # noqa: E402
from sensorkit.devices.spec import open_device  # noqa: E402
from sensorkit.errors import SensorkitError  # noqa: E402
from sensorkit.streams import concat_chunks  # noqa: E402


def emg_outlet(name, n_ch=4, rate=500.0):
    info = pylsl.StreamInfo(name, "EMG", n_ch, rate, pylsl.cf_float32, f"{name}-uid")
    chans = info.desc().append_child("channels")
    for i in range(n_ch):
        ch = chans.append_child("channel")
        ch.append_child_value("label", f"glute_med_{'LR'[i % 2]}{i}")
        ch.append_child_value("unit", "microvolts")
    return pylsl.StreamOutlet(info)


def test_lsl_source_receives_an_outlets_samples_in_volts_on_our_clock():
    outlet = emg_outlet("TestEMG-1")
    data = np.random.default_rng(0).normal(0, 50, (1500, 4)).astype(np.float32)  # microvolts
    stamps = []

    def push():
        t0 = pylsl.local_clock()
        for k in range(0, len(data), 25):
            ts = [t0 + (k + j) / 500.0 for j in range(25)]
            outlet.push_chunk(data[k : k + 25].tolist(), ts)
            stamps.extend(ts)
            time.sleep(0.05)

    source = open_device("lsl://name=TestEMG-1")
    got = []
    acq = Acquisition([source], [got.append])
    acq.start()
    pusher = threading.Thread(target=push)
    pusher.start()
    pusher.join()
    time.sleep(0.5)
    acq.stop()
    c = concat_chunks(got)
    assert c.info.kind == "EMG" and c.info.units == ("V",) * 4 and c.info.channels[0] == "glute_med_L0"
    assert len(c) == len(data)
    assert np.allclose(c.samples, data * 1e-6, rtol=1e-6)
    # same machine: liblsl's clock mapping is ~0; dejittering leaves the regular stamps regular
    assert np.max(np.abs(c.timestamps - np.array(stamps))) < 0.005


def test_sensorkit_outlet_reaches_a_plain_pylsl_inlet():
    done = threading.Event()
    result = {}

    def stream():
        result["code"] = main(["stream", "sim://calibration?speed=4&seed=2&muscles=glute_med_L,glute_med_R",
                               "--lsl", "--duration", "3"])  # fmt: skip
        done.set()

    threading.Thread(target=stream, daemon=True).start()
    found = pylsl.resolve_bypred("type='EMG' and starts-with(source_id, 'sensorkit')", timeout=10)
    assert found, "sensorkit's EMG outlet was not found"
    inlet = pylsl.StreamInlet(found[0])
    info = inlet.info(timeout=5)
    ch = info.desc().child("channels").child("channel")
    assert ch.child_value("label") == "glute_med_L" and ch.child_value("unit") == "V"
    samples, _ = inlet.pull_chunk(timeout=2.0, max_samples=4000)
    for _ in range(20):
        more, _ = inlet.pull_chunk(timeout=0.2, max_samples=4000)
        samples += more
    assert done.wait(20) and result["code"] == 0
    x = np.array(samples)
    assert x.shape[1] == 2 and len(x) > 1000 and np.all(np.abs(x) < 0.2)


def test_no_such_lsl_stream_is_one_clear_error():
    with pytest.raises(SensorkitError, match="no LSL stream with name='Nobody"):
        open_device("lsl://name=Nobody?timeout=0.5").open()
    with pytest.raises(SensorkitError, match="needs a stream property"):
        open_device("lsl://EMG")


def test_missing_stream_on_the_command_line_is_one_line(tmp_path, capsys):
    assert main(["record", "lsl://type=NoSuchType?timeout=0.5", "-o", str(tmp_path / "x.xdf")]) == 1
    err = capsys.readouterr().err
    assert "no LSL stream with type='NoSuchType'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.xdf").exists()
