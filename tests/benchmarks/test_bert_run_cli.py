"""``edgeperf run bert-99`` end to end through the CLI (spec benchmarks.md §8, §10, §11).

The real chain runs: SQuAD fixture on disk → WordPiece features → SquadQSL → a backend → DirectSUT /
WorkerPoolSUT → LoadGen → logs, then accuracy.txt. Two backends:

* onnxruntime with ``bert_standin`` (official I/O; logits are a simple function of the inputs),
  to check the response bytes (float32 [384, 2], start/end interleaved) and every mode;
* an oracle (``OracleBackend.from_table`` keyed by the content of ``input_ids``) whose logits
  peak at the ground truth: accuracy must print exactly ``{"exact_match": 100.0, "f1": 100.0}``,
  and one perturbed answer must cost exactly what evaluate-v1.1 says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from conftest import LOG_FILES  # noqa: E402
from edgeperf.backends import register_backend  # noqa: E402
from edgeperf.benchmarks import get_benchmark  # noqa: E402
from edgeperf.datasets.squad import SquadDataset  # noqa: E402
from edgeperf.testing.oracle import OracleBackend, content_key  # noqa: E402
from squad_fixtures import SQUAD_DOCUMENT, SUPER_BOWL, make_squad, oracle_logits  # noqa: E402

PERFECT = '{"exact_match": 100.0, "f1": 100.0}'
OFFICIAL = re.compile(r'^\{"exact_match": [0-9.e+-]+, "f1": [0-9.e+-]+\}$')
RAN_OUT = "Ending early: Ran out of generated queries to issue"


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory) -> Path:
    return make_squad(tmp_path_factory.mktemp("squad-run"))


@pytest.fixture(scope="module")
def squad(squad_dir) -> SquadDataset:
    return SquadDataset(squad_dir)


@pytest.fixture(scope="module")
def bert_models(tmp_path_factory) -> dict[str, Path]:
    from edgeperf.testing.onnx_standins import bert_standin

    folder = tmp_path_factory.mktemp("bert-models")
    return {"bert": bert_standin(folder / "bert.onnx"), "bert-128": bert_standin(folder / "bert-128.onnx", seq_len=128)}


def _run(cli, out, model, dataset, scenario, mode, *extra, conf=None, benchmark="bert-99"):
    args = [
        "run",
        benchmark,
        "--scenario",
        scenario,
        "--mode",
        mode,
        "--model",
        model,
        "--dataset",
        dataset,
        "--output",
        out,
        *extra,
    ]
    if conf is not None:
        args += ["--user-conf", conf]
    return cli(*args)


def _records(out: Path) -> list[dict]:
    lines = (out / "mlperf_log_detail.txt").read_text().splitlines()
    return [json.loads(line.split(":::MLLOG ", 1)[1]) for line in lines if line.startswith(":::MLLOG ")]


def _check_logs(out: Path) -> None:
    for name in LOG_FILES:
        assert (out / name).is_file(), name
    errors = [r["value"] for r in _records(out) if r["metadata"]["is_error"]]
    assert [e for e in errors if not e.startswith(RAN_OUT)] == []


def _standin_logits(squad: SquadDataset, index: int) -> np.ndarray:
    """What bert_standin computes for feature ``index``, as [384, 2] (start, end) float32."""
    f = squad.features
    ids, seg, mask = (a[index].astype(np.float32) for a in (f.input_ids, f.segment_ids, f.input_mask))
    penalty = (mask - np.float32(1)) * np.float32(10000)
    start = (ids * np.float32(0.001) + seg * np.float32(0.5)) * mask + penalty
    end = (ids * np.float32(-0.001) + seg * np.float32(0.25)) * mask + penalty
    return np.stack([start, end], axis=-1)


# -- the stand-in model: every scenario and mode we need --------------------------------------------


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_performance_mode(cli, tmp_path, squad_dir, bert_models, fast_conf, scenario):
    out = tmp_path / "out"
    result = _run(cli, out, bert_models["bert"], squad_dir, scenario, "performance", conf=fast_conf)
    assert result.exit_code == 0, result.output
    _check_logs(out)
    summary = (out / "mlperf_log_summary.txt").read_text()
    assert f"Scenario : {scenario}" in summary and "Mode     : PerformanceOnly" in summary
    assert "SUT name : edgeperf-bert-99-onnxruntime" in summary
    assert re.search(r"^Result is : (VALID|INVALID)$", summary, re.M)
    records = {r["key"]: r["value"] for r in _records(out)}
    assert records["qsl_name"] == "bert-99-QSL"
    assert records["effective_min_duration_ms"] == 200
    assert records["qsl_reported_total_count"] == records["qsl_reported_performance_count"] == 18  # 18 features
    assert json.loads((out / "mlperf_log_accuracy.json").read_text()) == []
    assert not (out / "accuracy.txt").exists()
    assert "not an official MLPerf result" in result.output


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_accuracy_mode_response_bytes(cli, tmp_path, squad_dir, squad, bert_models, fast_conf, scenario):
    out = tmp_path / "out"
    result = _run(cli, out, bert_models["bert"], squad_dir, scenario, "accuracy", conf=fast_conf)
    assert result.exit_code == 0, result.output
    _check_logs(out)
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in entries) == list(range(18))  # every feature once
    for entry in entries:
        data = bytes.fromhex(entry["data"])
        assert len(data) == 3072  # float32 [384, 2]
        got = np.frombuffer(data, "<f4").reshape(384, 2)
        np.testing.assert_allclose(got, _standin_logits(squad, entry["qsl_idx"]), rtol=1e-6, atol=1e-3)
    lines = (out / "accuracy.txt").read_text().splitlines()
    assert lines[:2] == ["Reading examples...", "Loading LoadGen logs..."]
    assert OFFICIAL.match(lines[-1]), lines[-1]
    assert result.output.splitlines().count(lines[-1]) == 1
    # the same log scored again gives the same line
    from edgeperf.accuracy.squad import evaluate_squad

    assert evaluate_squad(out / "mlperf_log_accuracy.json", squad).official_line == lines[-1]


def test_max_samples_and_batch_size(cli, tmp_path, squad_dir, bert_models, fast_conf):
    out = tmp_path / "out"
    result = _run(
        cli,
        out,
        bert_models["bert"],
        squad_dir,
        "Offline",
        "accuracy",
        "--max-samples",
        "7",
        "--batch-size",
        "3",
        conf=fast_conf,
    )
    assert result.exit_code == 0, result.output
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in entries) == list(range(7))


def test_bert_99_9_runs_too(cli, tmp_path, squad_dir, bert_models, fast_conf):
    out = tmp_path / "out"
    result = _run(
        cli, out, bert_models["bert"], squad_dir, "Offline", "performance", conf=fast_conf, benchmark="bert-99.9"
    )
    assert result.exit_code == 0, result.output
    assert "SUT name : edgeperf-bert-99.9-onnxruntime" in (out / "mlperf_log_summary.txt").read_text()


# -- the oracle: perfect, and exactly one answer's worth worse --------------------------------------


def _register_oracle(name: str, squad: SquadDataset, overrides=None) -> str:
    signature = get_benchmark("bert-99").signature
    table = {
        content_key(squad.features.input_ids[k]): {"output_start_logits": start, "output_end_logits": end}
        for k, (start, end) in enumerate(oracle_logits(squad, overrides))
    }
    assert len(table) == len(squad)  # every feature's input_ids differ

    def factory(threads=None, providers=None):
        return OracleBackend.from_table(signature, "input_ids", table)

    register_backend(name, factory, replace=True)
    return name


@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_oracle_is_perfect(cli, tmp_path, squad_dir, squad, bert_models, scenario):
    backend = _register_oracle("test-oracle-bert", squad)
    out = tmp_path / "out"
    result = _run(cli, out, bert_models["bert"], squad_dir, scenario, "accuracy", "--backend", backend)
    assert result.exit_code == 0, result.output
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == PERFECT
    assert PERFECT in result.output.splitlines()


def test_oracle_with_one_wrong_answer(cli, tmp_path, squad_dir, squad, bert_models):
    # q-afc answered "Broncos": EM 9/10; F1 (2/3 + 9 x 1) / 10
    backend = _register_oracle("test-oracle-bert-wrong", squad, {"q-afc": ("Broncos", SUPER_BOWL.index("Broncos"))})
    out = tmp_path / "out"
    result = _run(cli, out, bert_models["bert"], squad_dir, "Offline", "accuracy", "--backend", backend)
    assert result.exit_code == 0, result.output
    f1 = 0
    for value in [2 * 1.0 * 0.5 / 1.5] + [1.0] * 9:
        f1 += value
    expected = json.dumps({"exact_match": 100.0 * 9 / 10, "f1": 100.0 * f1 / 10})
    assert (out / "accuracy.txt").read_text().splitlines()[-1] == expected
    assert len(SQUAD_DOCUMENT["data"]) == 2  # (the fixture: 10 questions in 2 articles)


# -- the listing --------------------------------------------------------------------------------------


def test_listed_with_targets(cli):
    result = cli("benchmarks")
    assert result.exit_code == 0, result.output
    rows = {
        name: next(line for line in result.output.splitlines() if line.split("\t")[0] == name)
        for name in ("bert-99", "bert-99.9")
    }
    assert "squad_f1 >= 89.9653" in rows["bert-99"] and "90.7831" in rows["bert-99.9"]
    assert "130 ms" in rows["bert-99"] and "10833/10833" in rows["bert-99"]
    assert "SingleStream, Offline" in rows["bert-99"]
    bench = get_benchmark("bert-99")
    assert (bench.checker_model, bench.config_model) == ("bert-99", "bert")
    assert [s.name for s in bench.signature.inputs] == ["input_ids", "input_mask", "segment_ids"]
    assert [s.name for s in bench.signature.outputs] == ["output_start_logits", "output_end_logits"]
    assert get_benchmark("bert-99.9").required_scenarios == ()


# -- errors a user will hit ---------------------------------------------------------------------------


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("edgeperf: "), result.output
    return "\n".join(lines)


def test_missing_vocab(cli, tmp_path, bert_models):
    folder = tmp_path / "squad"
    folder.mkdir()
    (folder / "dev-v1.1.json").write_text(json.dumps(SQUAD_DOCUMENT), encoding="utf-8")
    out = tmp_path / "out"
    text = _one_line_error(_run(cli, out, bert_models["bert"], folder, "Offline", "performance"))
    assert len(text.splitlines()) == 1
    assert str(folder / "vocab.txt") in text and "not found" in text and "WordPiece vocabulary" in text
    assert not out.exists()


def test_malformed_json(cli, tmp_path, bert_models):
    folder = make_squad(tmp_path)
    (folder / "dev-v1.1.json").write_text('{"version": "1.1", "data": [\n{"title": }]}', encoding="utf-8")
    out = tmp_path / "out"
    text = _one_line_error(_run(cli, out, bert_models["bert"], folder, "SingleStream", "accuracy"))
    assert len(text.splitlines()) == 1
    assert f"{folder / 'dev-v1.1.json'}:2:" in text and "not valid JSON" in text
    assert not out.exists()


def test_model_with_other_sequence_length(cli, tmp_path, squad_dir, bert_models):
    out = tmp_path / "out"
    text = _one_line_error(_run(cli, out, bert_models["bert-128"], squad_dir, "Offline", "performance"))
    assert "bert-128.onnx" in text and "does not match" in text
    for name in ("input_ids", "input_mask", "segment_ids", "output_start_logits", "output_end_logits"):
        assert f"'{name}'" in text
    assert "384" in text and "128" in text
    assert not out.exists()


def test_model_with_other_tensor_names(cli, tmp_path, squad_dir):
    from edgeperf.testing.onnx_standins import resnet50_standin

    model = resnet50_standin(tmp_path / "resnet.onnx")
    out = tmp_path / "out"
    text = _one_line_error(_run(cli, out, model, squad_dir, "SingleStream", "performance"))
    assert "'input_ids'" in text and "'input_tensor:0'" in text and "'output_start_logits'" in text
    assert not out.exists()


def test_scoring_a_max_samples_run(tmp_path, squad_dir, squad):
    """``count`` (a ``--max-samples`` run) scores only the questions whose features ran."""
    from squad_fixtures import interleaved, write_accuracy_log

    logits = oracle_logits(squad)
    log = write_accuracy_log(tmp_path / "log.json", [interleaved(s, e) for s, e in logits[:7]])
    bench = get_benchmark("bert-99")
    assert bench.evaluate(log, squad_dir).official_line == '{"exact_match": 70.0, "f1": 70.0}'  # 7 of 10
    # features 0-6 are questions 0-5 and the first span of question 6 (whose answer is in span 0)
    assert bench.evaluate(log, squad_dir, count=7).official_line == PERFECT
    assert bench.evaluate(log, squad_dir, count=7).details["questions"] == 7
