"""benchmarks/bench_multimodal.py, dry run at toy sizes: the authors' SurvPath (from the
anchors folder), survlib's batched model and the naive loop all train, their parameter counts
match, the authors' model given survlib's weights gives survlib's logits, and the JSON merges one
entry per device/thread setting. Skipped when the authors' code is not there."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_multimodal.py"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_multimodal", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["--patients", "3", "--patches", "32", "--d-patch", "16", "--batch-size", "2"]
TINY += ["--max-pathways", "5", "--epochs", "1", "--threads", "0"]


def test_dry_run_against_the_authors_survpath(bench: ModuleType, tmp_path: Path) -> None:
    cls, why = bench.import_authors_survpath(bench.resolve_anchors(None))
    if cls is None:
        pytest.skip(f"authors' SurvPath not available: {why}")
    out = tmp_path / "multimodal.json"
    bench.main([*TINY, "--profile-steps", "1", "--device", "cpu", "--out", str(out)])
    record = json.loads(out.read_text())
    (key,) = record["runs"]
    run = record["runs"][key]
    assert key.startswith("cpu/threads=")
    assert run["epoch_order"] == ["authors", "ours", "naive"]
    counts = run["parameters_model"]
    assert counts["authors"] == counts["ours"] == counts["naive"] and run["parameter_counts_match"]
    assert run["pathways"]["n_pathways"] == 5
    assert run["authors_logits_max_abs_diff_same_weights"] < 1e-5
    for name in ("authors", "ours", "naive"):
        assert run["results"][name]["seconds_per_epoch_mean"] > 0
    ratio = record["ratios"][key]["authors_over_ours_mean"]
    assert ratio == pytest.approx(
        run["results"]["authors"]["seconds_per_epoch_mean"]
        / run["results"]["ours"]["seconds_per_epoch_mean"]
    )
    parts = record["profile"]["after"][key]["seconds_per_step"]
    assert {"backward", "optimizer step", "forward: pathway MLPs"} <= set(parts)
    # a second setting merges in next to the first (here: a profile-only run)
    bench.main(
        [*TINY, "--epochs", "0", "--profile-steps", "1", "--profile-label", "b"]
        + ["--device", "cpu", "--out", str(out)]
    )
    merged = json.loads(out.read_text())
    assert set(merged["runs"]) == {key} and set(merged["profile"]) == {"after", "b"}


def test_missing_anchors_are_skipped_with_a_message(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    bench.main([*TINY, "--no-naive", "--anchors", str(tmp_path / "none"), "--out", str(out)])
    assert "authors' SurvPath skipped" in capsys.readouterr().out
    run = json.loads(out.read_text())["runs"]
    (only,) = run.values()
    assert only["epoch_order"] == ["ours"] and only["ratios"]["authors_over_ours_mean"] is None


def test_bf16_runs_every_forward_under_autocast(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.json"
    seen: list[tuple[str, str]] = []
    real = bench.autocast

    def spy(device_type: str, precision: str):  # type: ignore[no-untyped-def]
        seen.append((device_type, precision))
        return real(device_type, precision)

    monkeypatch.setattr(bench, "autocast", spy)
    bench.main([*TINY, "--precision", "bf16", "--device", "cpu", "--out", str(out)])
    record = json.loads(out.read_text())
    (key,) = record["runs"]
    run = record["runs"][key]
    assert key.endswith("/bf16") and run["precision"] == "bf16"
    assert run["optimizers"]["ours"] == "library"  # survlib.train.adam, as the library trains
    n_steps = {"ours": 2, "naive": 3, "authors": 3}  # 3 patients, batches of 2 for ours
    steps = sum(n_steps[n] for n in run["epoch_order"]) * 2  # warm-up + 1 timed epoch
    assert seen.count(("cpu", "bf16")) == steps + 1  # + main's up-front check
    for r in run["results"].values():
        assert r["seconds_per_epoch_mean"] > 0
    with pytest.raises(ValueError, match="precision"):
        bench.main([*TINY, "--precision", "fp16", "--device", "cpu", "--out", str(out)])
