"""Device commands: `sensorkit devices` (what is plugged in or in range), `sensorkit stream`
(republish devices on LSL) and `sensorkit virtual-device` (a simulated unit on a
pseudo-terminal, to try serial recording without hardware)."""

from __future__ import annotations

import argparse
import threading

from sensorkit.devices.identify import guess
from sensorkit.devices.transports.serial import list_serial_ports
from sensorkit.errors import SensorkitError


def cmd_devices(args) -> int:
    ports = list_serial_ports()
    if not ports:
        print("no serial ports found")
    for p in ports:
        hint = guess(p)
        print(p.line() + (f"\n    -> {hint}" if hint else ""))
    if args.ble:
        from sensorkit.devices.transports.ble import scan

        found = scan(args.timeout)
        print(f"{len(found)} supported BLE devices in range" + (":" if found else ""))
        for line in found:
            print(f"  {line}")
    return 0


def cmd_virtual_device(args) -> int:
    from sensorkit.devices.virtual.pty import VirtualPort
    from sensorkit.sim import SimConfig, simulate

    rec = simulate(SimConfig(scenario=args.scenario, seed=args.seed))
    if args.protocol == "sk1":
        from sensorkit.devices.virtual.sk1 import SimFirmware

        firmware, query = SimFirmware(rec, speed=1.0), "protocol=sk1"
    elif args.protocol == "openbci":
        from sensorkit.devices.virtual.openbci import SimCyton, counts_of

        firmware = SimCyton(*counts_of(rec))
        query = "protocol=openbci&channels=" + ",".join((rec.config.muscles + ("-",) * 8)[:8])
    else:
        from sensorkit.devices.virtual.csv_lines import SimCsvSketch, sketch_counts

        firmware = SimCsvSketch(sketch_counts(rec, 500.0), 500.0)
        query = (f"protocol=csv&rate=500&emg_offset=511.5&columns=time,emg:{rec.config.muscles[0]},"
                 f"emg:{rec.config.muscles[1]},acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z")  # fmt: skip
    try:
        port = VirtualPort(firmware, link=args.link)
    except OSError as exc:
        raise SensorkitError(f"cannot make a pseudo-terminal here: {exc}") from None
    with port:
        print(f"serial://{args.link or port.path}?{query}", flush=True)
        print(f"simulated {args.protocol} unit ({args.scenario}, {rec.duration:.0f} s) streaming; "
              "Ctrl-C to stop", flush=True)
        done = threading.Event()
        while not done.wait(0.2):
            if getattr(firmware, "finished", False):
                break
    return 0


def cmd_stream(args) -> int:
    from sensorkit.acquisition import Acquisition
    from sensorkit.devices.spec import open_device
    from sensorkit.outlets.lsl import LslPublisher

    if not args.lsl:
        raise SensorkitError("say where to stream: --lsl (the only output so far)")
    if args.duration is not None and args.duration <= 0:
        raise SensorkitError("--duration must be positive")
    sources = [open_device(s) for s in args.devices]
    publisher = LslPublisher()
    acq = Acquisition(sources, [publisher])
    try:
        acq.start()
        print(f"streaming {len(sources)} device(s) to LSL; Ctrl-C to stop", flush=True)
        acq.wait(args.duration, on_tick=lambda: print("  " + "; ".join(s.status().line() for s in sources),
                                                      flush=True), tick=5.0)  # fmt: skip
    except KeyboardInterrupt:
        print("\n  stopped by user")
    finally:
        acq.stop()
        publisher.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser("devices", help="list serial ports (and BLE sensors with --ble)",
                        description="List the serial ports (USB identity, serial number, and the spec "
                        "to try for boards sensorkit knows) and, with --ble, nearby Bluetooth LE devices "
                        "that look like supported sensors (sk1, Myo).")  # fmt: skip
    sp.add_argument("--ble", action="store_true", help="also scan for Bluetooth LE sensors")
    sp.add_argument("--timeout", type=float, default=5.0, help="BLE scan time, s")
    sp.set_defaults(func=cmd_devices)

    sp = sub.add_parser("stream", help="republish devices as LSL streams",
                        description="Read one or more devices and republish every stream on the Lab "
                        "Streaming Layer (same names, channels, units and timestamps), for LabRecorder and "
                        "other LSL tools.")  # fmt: skip
    sp.add_argument("devices", nargs="+", metavar="DEVICE", help="device specs, e.g. serial:///dev/ttyUSB0")
    sp.add_argument("--lsl", action="store_true", help="publish on LSL")
    sp.add_argument("--duration", type=float, help="seconds of data, then stop (default: until Ctrl-C)")
    sp.set_defaults(func=cmd_stream)

    sp = sub.add_parser("virtual-device", help="a simulated unit on a pseudo-terminal (no hardware)",
                        description="Start a simulated sk1, OpenBCI Cyton or Arduino text-line unit on a "
                        "pseudo-terminal and print the serial:// spec that records it, so that the serial "
                        "path can be tried without hardware (POSIX only).")  # fmt: skip
    sp.add_argument("protocol", choices=("sk1", "openbci", "csv"))
    sp.add_argument("--scenario", default="session")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--link", help="also reach it through this symlink (a stable path)")
    sp.set_defaults(func=cmd_virtual_device)
