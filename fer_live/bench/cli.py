"""`python -m fer_live.bench [annotate|model|soak|all|lsl]`: measure, print JSON, append results.md rows.

python -m fer_live.bench annotate --mode sequential,stream --detect-every 1,2 --detector full,short --geometry off,on
python -m fer_live.bench model --threads 1
python -m fer_live.bench soak --minutes 60
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from fer_live import options
from fer_live.bench import netns
from fer_live.bench.machine import describe_machine, machine_info, process_peak_rss_mb
from fer_live.bench.record import DEFAULT_RESULTS, append_row, utc_now
from fer_live.bench.videos import SHARED_DATA
from fer_live.errors import FerLiveError
from fer_live.options import at_least, bounded, greater_than

BENCHES = ("annotate", "model", "soak")
# Not part of `all`: it creates LSL streams, so it re-runs itself in a loopback-only namespace.
ISOLATED_BENCHES = ("lsl",)


def int_list(text: str) -> list[int]:
    return [at_least(1)(part) for part in text.split(",")]


def choice_list(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        values = text.split(",")
        for value in values:
            if value not in choices:
                raise argparse.ArgumentTypeError(f"expected some of {','.join(choices)}, not {value!r}")
        return values

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fer_live.bench",
        description="Measure fer_live's speed and memory on this machine; print JSON and append rows to results.md.",
    )
    parser.add_argument("bench", nargs="?", default="all", choices=(*BENCHES, *ISOLATED_BENCHES, "all"))
    parser.add_argument("--weights", help="weights file (default: the bundled one, else a random model of its size)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="folder holding diffusionfer/ (face images)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="Markdown file to append rows to")
    parser.add_argument("--no-record", action="store_true", help="print JSON only, append no rows")
    options.add_device(parser)
    options.add_backend(parser)
    options.add_prior(parser)
    options.add_threads(parser)
    group = parser.add_argument_group("annotate")
    group.add_argument("--frames", type=at_least(1), default=300, help="frames per test video (default 300)")
    group.add_argument("--faces", type=int_list, default=[1, 4], help="faces per video, e.g. 1,4 (at most 4)")
    group.add_argument("--mode", type=choice_list(("stream", "sequential")), default=["stream"])
    group.add_argument("--detect-every", type=int_list, default=[1], help="run the detector every k frames, e.g. 1,2")
    group.add_argument("--detector", type=choice_list(options.DETECTOR_RANGES), default=[options.DEFAULT_DETECTOR])
    group.add_argument(
        "--geometry",
        type=choice_list(("off", "on")),
        default=["off"],
        help="face geometry (mesh, pose, eyes) off, on, or off,on to compare",
    )
    group.add_argument("--repeat", type=at_least(1), default=1, help="runs per configuration; the best counts")
    group = parser.add_argument_group("model")
    group.add_argument("--batches", type=int_list, default=[1, 8])
    group.add_argument("--seconds", type=greater_than(0), default=2.0, help="timing per backend and batch size")
    group = parser.add_argument_group("soak")
    group.add_argument("--minutes", type=greater_than(0), default=10.0, help="synthetic video length (60 = full soak)")
    group.add_argument("--soak-faces", type=at_least(1), default=2, choices=(1, 2, 3, 4))
    group.add_argument("--sample-every", type=at_least(1), default=300, help="frames between RSS samples")
    group.add_argument(
        "--warmup-minutes", type=bounded(0, math.inf), default=1.0, help="video minutes left out of the RSS summary"
    )
    return parser


def run_bench(name: str, args: argparse.Namespace, weights: Path) -> tuple[dict, list[dict[str, str]]]:
    if name == "model":
        from fer_live.bench import model

        return model.run(args, weights)
    from fer_live.bench import annotate, lsl, soak
    from fer_live.inference.engine import Engine

    engine = Engine(weights, args.device, args.threads, args.backend, args.prior)
    return {"annotate": annotate, "lsl": lsl, "soak": soak}[name].run(args, engine)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.bench in ISOLATED_BENCHES and not netns.inside():
        reason = netns.namespace_unavailable()
        if reason:
            print(
                f"fer-live bench: error: the {args.bench} bench runs only in a loopback-only namespace: {reason}",
                file=sys.stderr,
            )
            return 2
        return netns.run_isolated([sys.executable, "-m", "fer_live.bench", *argv]).returncode
    try:
        if max(args.faces) > 4:
            raise FerLiveError("--faces allows at most 4 faces per video")
        from fer_live.bench.inputs import bench_weights, check_face_data

        check_face_data(args.data)
        machine = machine_info()
        report = {"date_utc": utc_now(), "machine": machine}
        with tempfile.TemporaryDirectory(prefix="fer_live_bench_") as scratch:
            weights, weights_label = bench_weights(args.weights, Path(scratch))
            report["weights"] = weights_label
            report["prior"] = args.prior
            names = BENCHES if args.bench == "all" else (args.bench,)
            for name in names:
                result, rows = run_bench(name, args, weights)
                report[name] = result
                if not args.no_record:
                    for row in rows:
                        append_row(
                            args.results,
                            {
                                "date (UTC)": report["date_utc"],
                                "bench": name,
                                "machine": describe_machine(machine),
                                "weights": weights_label,
                                **row,
                            },
                        )
        report["process_peak_rss_mb"] = round(process_peak_rss_mb(), 1)
    except FerLiveError as exc:
        print(f"fer-live bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fer-live bench: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(report, indent=2))
    return 0
