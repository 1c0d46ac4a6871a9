"""Run every benchmark (make bench). Each prints its figures against a baseline measured
in the same run; nothing here is asserted, since shared machines are noisy."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_analyze  # noqa: E402
import bench_batch  # noqa: E402
import bench_gait  # noqa: E402
import bench_gui  # noqa: E402
import bench_live  # noqa: E402
import bench_live_reps  # noqa: E402
import bench_lost_samples  # noqa: E402
import bench_lying_latency  # noqa: E402
import bench_marked_posture  # noqa: E402
import bench_movement  # noqa: E402
import bench_onset  # noqa: E402
import bench_pelvic_drop  # noqa: E402
import bench_quality  # noqa: E402
import bench_read  # noqa: E402
import bench_recorder_memory  # noqa: E402
import bench_reference_channel  # noqa: E402
import bench_serial_latency  # noqa: E402
import bench_sk1_decode  # noqa: E402
import bench_unmarked  # noqa: E402
import bench_xdf_write  # noqa: E402

BENCHES = (bench_sk1_decode, bench_serial_latency, bench_xdf_write, bench_read, bench_lost_samples,
           bench_recorder_memory, bench_movement, bench_lying_latency, bench_marked_posture, bench_unmarked,
           bench_pelvic_drop, bench_reference_channel, bench_gait, bench_quality, bench_onset, bench_analyze,
           bench_batch, bench_live, bench_live_reps, bench_gui)
for bench in BENCHES:
    bench.main()
    print()
