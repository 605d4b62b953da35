"""An LSL consumer for the tests, run inside fer_live.bench.netns's private namespace: starts a
fer-live command, receives its Affect and marker streams, writes what arrived as JSON.

python -m tests.lsl_probe OUT.json [--marker LINE]... [--run-s S] [--hold-port N] -- COMMAND...

Markers are typed into the command's stdin once both inlets are connected. With --run-s the command
is stopped (SIGINT, as Ctrl-C) after S seconds of streaming; otherwise it runs to its end.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time

import pylsl

RESOLVE_TIMEOUT_S = 120  # the command imports torch and MediaPipe first; the machine may be busy
DRAIN_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--marker", action="append", default=[])
    parser.add_argument("--run-s", type=float)
    parser.add_argument("--hold-port", type=int, help="bind this TCP and UDP port first, so outlets cannot use it")
    split = sys.argv.index("--")
    args, command = parser.parse_args(sys.argv[1:split]), sys.argv[split + 1 :]
    held = _hold(args.hold_port) if args.hold_port else []
    started = pylsl.local_clock()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    report: dict = {"started": started, "samples": [], "stamps": [], "received": [], "markers": []}
    try:
        found = _resolve("type", "Affect", process)
        if found is None:
            raise _NoStream()
        affect = pylsl.StreamInlet(found, max_buflen=360, processing_flags=0)
        report["info_xml"] = affect.info(timeout=10).as_xml()
        affect.open_stream(timeout=10)
        markers = None
        marker_found = _resolve("source_id", found.source_id() + "#markers", process)
        if marker_found is not None:
            markers = pylsl.StreamInlet(marker_found, max_buflen=360, processing_flags=0)
            report["marker_info_xml"] = markers.info(timeout=10).as_xml()
            markers.open_stream(timeout=10)
        report["connected"] = pylsl.local_clock()
        if args.marker:
            time.sleep(0.5)  # a few frames in, so markers fall inside the session
            process.stdin.write("".join(line + "\n" for line in args.marker))
            process.stdin.flush()
        deadline = None if args.run_s is None else time.monotonic() + args.run_s
        quiet_since = None
        while True:
            _pull(affect, markers, report)
            if deadline is not None and time.monotonic() > deadline and process.poll() is None:
                process.send_signal(signal.SIGINT)
                deadline = None
            if process.poll() is not None:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > DRAIN_S:
                    break
        _pull(affect, markers, report)
    except _NoStream:
        report["error"] = "no Affect stream appeared"
    finally:
        if process.poll() is None:
            process.kill()
        stdout, stderr = process.communicate()
    report.update(returncode=process.returncode, stdout=stdout, stderr=stderr, finished=pylsl.local_clock())
    for sock in held:
        sock.close()
    with open(args.out, "w") as out:
        json.dump(report, out)
    return 0


def _hold(port: int) -> list[socket.socket]:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("0.0.0.0", port))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    return [tcp, udp]


class _NoStream(Exception):
    pass


def _resolve(prop: str, value: str, process: subprocess.Popen):
    deadline = time.monotonic() + RESOLVE_TIMEOUT_S
    while time.monotonic() < deadline:
        found = pylsl.resolve_byprop(prop, value, minimum=1, timeout=1.0)
        if found:
            return found[0]
        if process.poll() is not None:
            return None
    return None


def _pull(affect, markers, report: dict) -> None:
    samples, stamps = affect.pull_chunk(timeout=0.05)
    report["samples"].extend(samples)
    report["stamps"].extend(stamps)
    report["received"].extend([pylsl.local_clock()] * len(stamps))
    if markers is not None:
        texts, stamps = markers.pull_chunk(timeout=0.0)
        report["markers"].extend([text[0], stamp] for text, stamp in zip(texts, stamps, strict=True))


if __name__ == "__main__":
    sys.exit(main())
