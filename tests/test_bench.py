"""The benchmark suite runs end to end on tiny inputs, prints its JSON and appends results.md rows.

No timing assertions: only that the numbers exist, are sane, and describe what was run.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_live.bench import inputs
from fer_live.bench.annotate import STAGES
from fer_live.bench.cli import main
from fer_live.bench.record import COLUMNS
from fer_live.bench.videos import BENCH_FACES, SyntheticFaceSource


def run_bench(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def table_rows(path) -> list[list[str]]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("| 20")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_annotate_bench_on_tiny_videos(capsys, tmp_path, random_weights, shared_data):
    results = tmp_path / "results.md"
    report = run_bench(
        capsys, "annotate", "--frames", "8", "--faces", "1,4", "--mode", "sequential,stream",
        "--geometry", "off,on", "--weights", str(random_weights), "--results", str(results),
    )  # fmt: skip
    assert report["machine"]["cores"] >= 1 and report["machine"]["cpu"]
    assert report["weights"] == "given (random.pt)"
    assert report["prior"] == "recommended"
    runs = report["annotate"]["runs"]
    assert [(r["mode"], r["geometry"], r["faces"]) for r in runs] == [
        (mode, geometry, faces) for mode in ("sequential", "stream") for geometry in ("off", "on") for faces in (1, 4)
    ]
    for run in runs:
        assert run["frames"] == 8 and run["fps"] > 0 and run["cpu_ms_per_frame"] > 0
        assert run["faces_per_frame"] == pytest.approx(run["faces"], abs=0.25)  # the real faces are found
        assert set(run["stage_ms_per_frame"]) == set(STAGES)
        # The mesh stage is empty (0.00 ms) with geometry off.
        assert all(ms > 0 for stage, ms in run["stage_ms_per_frame"].items() if stage != "mesh")
        assert (run["stage_ms_per_frame"]["mesh"] > 0.5) == (run["geometry"] == "on")
        assert 50 < run["peak_rss_mb"] < 4000
    rows = table_rows(results)
    assert len(rows) == 4 and all(len(row) == len(COLUMNS) for row in rows)
    assert rows[0][1] == "annotate" and "sequential" in rows[0][4] and "stream" in rows[3][4]
    assert "geometry off" in rows[0][4] and "geometry on" in rows[1][4]
    assert "1 face:" in rows[1][5] and "4 faces:" in rows[1][5] and "fps" in rows[1][5]
    assert results.read_text().count("| date (UTC) |") == 1  # header written once


def test_model_bench_times_each_backend(capsys, tmp_path, random_weights, shared_data):
    results = tmp_path / "results.md"
    report = run_bench(
        capsys, "model", "--batches", "1,3", "--seconds", "0.05", "--threads", "1",
        "--weights", str(random_weights), "--results", str(results),
    )  # fmt: skip
    backends = {entry["backend"]: entry for entry in report["model"]["backends"]}
    assert {"torch", "onnx"} <= set(backends)
    assert backends["onnx"]["device"] == "CPU (onnxruntime, 1 thread)" and backends["torch"]["precision"] == "fp32"
    for entry in backends.values():
        assert [t["batch"] for t in entry["timings"]] == [1, 3]
        assert all(t["ms_per_face"] > 0 and t["calls"] >= 5 for t in entry["timings"])
    assert set(report["model"]["onnx_speedup_over_torch_cpu"]) == {"1", "3"}
    assert len(table_rows(results)) == len(backends)


def test_model_bench_times_the_int8_graph_shipped_beside_the_weights(capsys, tmp_path, shared_data):
    from fer_live import assets

    report = run_bench(
        capsys, "model", "--batches", "1", "--seconds", "0.05", "--threads", "1",
        "--weights", str(assets.WEIGHTS), "--results", str(tmp_path / "results.md"),
    )  # fmt: skip
    backends = {entry["backend"]: entry for entry in report["model"]["backends"]}
    assert backends["onnx-int8"]["precision"] == "int8"
    assert backends["onnx-int8"]["device"] == "CPU (onnxruntime int8, 1 thread)"
    assert set(report["model"]["onnx_int8_speedup_over_torch_cpu"]) == {"1"}


def test_soak_bench_reports_rss_after_warmup(capsys, tmp_path, random_weights, shared_data):
    results = tmp_path / "results.md"
    report = run_bench(
        capsys, "soak", "--minutes", "0.01", "--sample-every", "3", "--warmup-minutes", "0.002",
        "--soak-faces", "1", "--weights", str(random_weights), "--results", str(results),
    )  # fmt: skip
    soak = report["soak"]
    assert soak["frames"] == 18 and soak["warmup_frames"] == 4
    memory = soak["rss_after_warmup"]
    assert memory["samples"] == 5  # frames 6, 9, 12, 15 and the last, 17
    assert memory["min_mb"] <= memory["max_mb"] and memory["range_mb"] == pytest.approx(
        memory["max_mb"] - memory["min_mb"], abs=0.11
    )
    assert [frame for frame, _ in soak["rss_samples"]] == [0, 3, 6, 9, 12, 15, 17]
    (row,) = table_rows(results)
    assert row[1] == "soak" and "drift" in row[5]


def test_random_default_architecture_when_no_bundled_weights(tmp_path, monkeypatch):
    from fer_live.model import ModelConfig, load_weights

    monkeypatch.setattr(inputs.assets, "WEIGHTS", tmp_path / "missing.pt")
    path, label = inputs.bench_weights(None, tmp_path)
    assert label.startswith("random") and load_weights(path)[0].config.widths == ModelConfig().widths


def test_missing_face_data_is_one_clear_line(capsys, tmp_path):
    assert main(["model", "--data", str(tmp_path), "--no-record"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-live bench: error: face image not found:")


def test_synthetic_source_draws_moving_faces_that_come_and_go(shared_data):
    source = SyntheticFaceSource(BENCH_FACES[:1], n_frames=15, side=120, period=3)
    frames = list(source)
    assert [f.index for f in frames] == list(range(15)) and frames[3].time_s == pytest.approx(0.1)
    background = source.scene.background
    away = [i for i, f in enumerate(frames) if np.array_equal(f.image, background)]
    assert away == [9, 10, 11]  # the only face is away in the fourth period
    assert not np.array_equal(frames[0].image, frames[1].image)  # and moves otherwise


def test_rows_go_into_the_table_before_the_notes_that_follow_it(tmp_path):
    from fer_live.bench.record import COLUMNS, HEADER, append_row

    results = tmp_path / "results.md"
    results.write_text(HEADER + "| old | row | a | b | c | d |\n\n## Notes\n\nprose\n", encoding="utf-8")
    append_row(results, dict.fromkeys(COLUMNS, "new"))
    lines = results.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("| old | row | a | b | c | d |") + 1] == "| new | new | new | new | new | new |"
    assert lines[-3:] == ["## Notes", "", "prose"]
    fresh = tmp_path / "fresh.md"
    append_row(fresh, dict.fromkeys(COLUMNS, "x|y"))
    assert fresh.read_text(encoding="utf-8") == HEADER + "| x\\|y | x\\|y | x\\|y | x\\|y | x\\|y | x\\|y |\n"
