"""The SQuAD v1.1 accuracy script: postprocessing and EM/F1 (spec benchmarks.md §1.3, §8.d-e).

Accuracy logs are written directly here (one record per feature, float32 [384, 2] interleaved),
so every rule of the reference's ``write_predictions`` and ``evaluate-v1.1.py`` can be aimed at:
an oracle scores exactly ``{"exact_match": 100.0, "f1": 100.0}``, and each perturbation costs
what the official formulas say, computed here independently in file order.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from edgeperf.accuracy.base import EVALUATORS, AccuracyError  # noqa: E402
from edgeperf.accuracy.squad import (  # noqa: E402
    best_indexes,
    evaluate_squad,
    exact_match_score,
    f1_score,
    get_final_text,
    normalize_answer,
)
from edgeperf.datasets.squad import SquadDataset  # noqa: E402
from edgeperf.datasets.wordpiece import basic_tokenize  # noqa: E402
from squad_fixtures import (  # noqa: E402
    QUESTION_IDS,
    SUPER_BOWL,
    interleaved,
    make_squad,
    oracle_logits,
    write_accuracy_log,
)

PERFECT = '{"exact_match": 100.0, "f1": 100.0}'
N = len(QUESTION_IDS)  # 10 questions


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory):
    return make_squad(tmp_path_factory.mktemp("squad-accuracy"))


@pytest.fixture(scope="module")
def ds(squad_dir):
    return SquadDataset(squad_dir)


def _log(tmp_path, logits, order=None, name="mlperf_log_accuracy.json"):
    return write_accuracy_log(tmp_path / name, [interleaved(s, e) for s, e in logits], order)


def _expected(per_question_em, per_question_f1) -> str:
    """evaluate-v1.1.py's arithmetic: running sums in file order, then 100 * sum / total."""
    em = f1 = 0
    for value in per_question_em:
        em += value
    for value in per_question_f1:
        f1 += value
    return json.dumps({"exact_match": 100.0 * em / len(per_question_em), "f1": 100.0 * f1 / len(per_question_f1)})


def _feature_of(ds, qas_id: str, span: int = 0) -> int:
    e = QUESTION_IDS.index(qas_id)
    return next(
        k for k in range(len(ds)) if ds.features.example_index[k] == e and ds.features.doc_span_index[k] == span
    )


# -- the official line ----------------------------------------------------------------------------


def test_oracle_scores_exactly_100(tmp_path, ds):
    log = _log(tmp_path, oracle_logits(ds))
    result = evaluate_squad(log, ds, output_file=tmp_path / "predictions.json")
    assert result.lines[-1] == PERFECT == result.official_line
    assert result.lines == [
        "Reading examples...",
        "Loading LoadGen logs...",
        f"Writing predictions to: {tmp_path / 'predictions.json'}",
        "Evaluating predictions...",
        PERFECT,
    ]
    assert result.metric == "squad_f1" and result.value == 100.0
    assert result.details["exact_match"] == 100.0 and result.details["records"] == 18
    predictions = json.loads((tmp_path / "predictions.json").read_text())
    assert list(predictions) == QUESTION_IDS
    # projected back onto the original text: accents, the en dash, the unknown word, "Smith's"
    assert predictions["q-score"] == "24–10" and predictions["q-owner"] == "Señor Smith"
    assert predictions["q-dessert"] == "crème brûlée" and predictions["q-city"] == "Zürich"
    assert predictions["q-harbor"] == "Grace Hopper" and predictions["q-long"] == "Alan Turing"


def test_records_in_any_order(tmp_path, ds):
    log = _log(tmp_path, oracle_logits(ds), order=list(reversed(range(len(ds)))))
    assert evaluate_squad(log, ds).official_line == PERFECT


def test_the_line_matches_the_checker_regex(tmp_path, ds):
    import re

    line = evaluate_squad(_log(tmp_path, oracle_logits(ds)), ds).official_line
    # submission-checker v1.1, bert: r'^{"exact_match": ([\d\.]+), "f1": ([\d\.]+)}'
    match = re.match(r'^{"exact_match": ([\d\.]+), "f1": ([\d\.]+)}', line)
    assert match and float(match.group(2)) == 100.0


def test_registered_as_squad_f1():
    assert EVALUATORS["squad_f1"] is evaluate_squad


# -- one perturbation, the exact drop ----------------------------------------------------------


def test_one_shorter_answer_costs_its_f1(tmp_path, ds):
    # q-afc answered "Broncos": EM 0; F1 against "Denver Broncos" = 2·1·0.5/1.5 = 2/3 ("Denver": 0)
    logits = oracle_logits(ds, {"q-afc": ("Broncos", SUPER_BOWL.index("Broncos"))})
    result = evaluate_squad(_log(tmp_path, logits), ds)
    em = [0] + [1] * 9
    f1 = [2 * 1.0 * 0.5 / 1.5] + [1.0] * 9
    assert result.official_line == _expected(em, f1)
    assert result.official_line == '{"exact_match": 90.0, "f1": 96.66666666666666}'


def test_end_shifted_by_one_piece(tmp_path, ds):
    # q-nfc's end moved one piece on: "carolina panthers 24"; the original token is "24–10", and
    # get_final_text cuts it back to "Carolina Panthers 24". F1: p = 2/3, r = 1 -> 0.8.
    logits = oracle_logits(ds)
    f = _feature_of(ds, "q-nfc")
    start, end = logits[f]
    position = int(np.argmax(end))
    end = end.copy()
    end[position], end[position + 1] = 0.0, 10.0
    logits[f] = (start, end)
    result = evaluate_squad(_log(tmp_path, logits), ds, output_file=tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["q-nfc"] == "Carolina Panthers 24"
    p, r = 2 / 3, 1.0
    assert result.official_line == _expected([1, 0] + [1] * 8, [1.0, 2 * p * r / (p + r)] + [1.0] * 8)


def test_unanswered_questions_count_as_zero(tmp_path, ds):
    # No record for q-city's feature: the reference predicts "empty" for it, scored 0 of 10.
    logits = oracle_logits(ds)
    f = _feature_of(ds, "q-city")
    order = [k for k in range(len(ds)) if k != f]
    result = evaluate_squad(_log(tmp_path, logits, order=order), ds)
    assert result.official_line == _expected([1] * 5 + [0] + [1] * 4, [1.0] * 5 + [0] + [1.0] * 4)
    assert result.details["features_with_logits"] == 17


def test_empty_log_scores_zero(tmp_path, ds):
    (tmp_path / "empty.json").write_text("[\n]\n")
    result = evaluate_squad(tmp_path / "empty.json", ds)
    assert result.official_line == '{"exact_match": 0.0, "f1": 0.0}'


def test_a_later_record_of_a_feature_replaces_an_earlier_one(tmp_path, ds):
    good = oracle_logits(ds)
    bad = oracle_logits(ds, {"q-afc": ("Broncos", SUPER_BOWL.index("Broncos"))})
    payloads = [interleaved(s, e) for s, e in good] + [interleaved(*bad[0])]
    records = [{"seq_id": k, "qsl_idx": k, "data": p.hex().upper()} for k, p in enumerate(payloads[:18])]
    later_bad = records + [{"seq_id": 18, "qsl_idx": 0, "data": payloads[18].hex()}]
    (tmp_path / "a.json").write_text(json.dumps(later_bad))
    assert evaluate_squad(tmp_path / "a.json", ds).details["exact_match"] == 90.0
    later_good = [dict(later_bad[-1], seq_id=0)] + [dict(r, seq_id=r["seq_id"] + 1) for r in records]
    (tmp_path / "b.json").write_text(json.dumps(later_good))
    assert evaluate_squad(tmp_path / "b.json", ds).official_line == PERFECT


# -- the candidate rules of write_predictions -----------------------------------------------------


def test_invalid_spans_are_skipped(tmp_path, ds):
    """Higher-scoring pairs that the reference throws out must not win over the oracle's +10/+10.

    q-afc: [CLS], 11 query pieces, [SEP], so the context starts at position 13; the gold answer
    "denver broncos" is at 46-47; the feature has 71 real tokens. Every decoy is placed so that it
    cannot form a valid pair with the gold positions either.
    """
    logits = oracle_logits(ds)
    f = _feature_of(ds, "q-afc")
    start, end = (a.copy() for a in logits[f])
    g_s, g_e = int(np.argmax(start)), int(np.argmax(end))
    assert (g_s, g_e) == (46, 47) and int(ds.features.n_tokens[f]) == 71
    assert ds.features.tokens(f)[g_s : g_e + 1] == ["denver", "broncos"]
    start[start == 0] = end[end == 0] = -100.0  # a floor, so only the decoys compete with the gold
    start[1] = end[1] = 100.0  # inside the question
    start[g_e + 1], end[g_s - 1] = 90.0, 90.0  # end before start
    start[g_s - 31] = 80.0  # with end g_s - 1: 31 pieces, one more than max_answer_length
    start[75] = end[75] = 70.0  # padding, past the last real token
    logits[f] = (start, end)
    result = evaluate_squad(_log(tmp_path, logits), ds)
    assert result.official_line == PERFECT
    # and each decoy is a real one: made valid, it wins
    end[g_s - 1] = 0.0
    end[g_s - 31 + 29] = 85.0  # 30 pieces: allowed
    logits[f] = (start, end)
    evaluate_squad(_log(tmp_path, logits, name="b.json"), ds, output_file=tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["q-afc"] != "Denver Broncos"


def test_a_start_without_maximal_context_is_skipped(tmp_path, ds):
    # q-harbor: in span 0, "grace" is not at its maximal context. A huge peak there loses to the
    # oracle's +10 peaks in span 1; moved to span 1 it wins.
    logits = oracle_logits(ds)
    f0, f1 = _feature_of(ds, "q-harbor", 0), _feature_of(ds, "q-harbor", 1)
    s0, e0 = (a.copy() for a in logits[f0])
    grace = 8 + 300  # [CLS] + 6 query pieces + [SEP], then piece 300 of the paragraph
    assert ds.features.tokens(f0)[grace] == "grace" and not ds.features.max_context[f0, grace]
    s0[:] = 0.0
    e0[:] = 0.0
    s0[grace], e0[grace] = 1000.0, 1000.0  # "grace" alone
    logits[f0] = (s0, e0)
    result = evaluate_squad(_log(tmp_path, logits), ds, output_file=tmp_path / "p.json")
    assert result.official_line == PERFECT
    s1, e1 = (a.copy() for a in logits[f1])
    s1[grace - 128], e1[grace - 128] = 1000.0, 1000.0
    logits[f1] = (s1, e1)
    evaluate_squad(_log(tmp_path, logits, name="b.json"), ds, output_file=tmp_path / "q.json")
    assert json.loads((tmp_path / "q.json").read_text())["q-harbor"] == "Grace"


def test_best_indexes_sort_stably():
    logits = np.array([0.0, 3.0, 1.0, 3.0, 1.0, -2.0])
    assert best_indexes(logits, 4) == [1, 3, 2, 4]
    assert best_indexes(np.array([1.0, np.nan, 2.0]), 3) == [
        i for i, _ in sorted(enumerate([1.0, np.nan, 2.0]), key=lambda x: x[1], reverse=True)
    ]


# -- get_final_text and evaluate-v1.1 normalisation ---------------------------------------------


@pytest.mark.parametrize(
    "pred, orig, final",
    [
        ("steve smith", "Steve Smith's", "Steve Smith"),
        ("creme brulee", "crème brûlée.", "crème brûlée"),
        ("1895", "(1895-1943).", "1895"),
        ("24 – 10", "24–10", "24–10"),
        ("[UNK]", "Zürich", "Zürich"),  # not found: the whole original span
        ("smith", "Smith\u00ad's", "Smith\u00ad's"),  # soft hyphen: lengths differ, whole span
        ("panthers 24", "Panthers 24–10", "Panthers 24"),
    ],
)
def test_get_final_text(pred, orig, final):
    assert get_final_text(pred, orig, basic_tokenize) == final


def test_normalisation_and_scores():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("the theater, an anthem") == "theater anthem"  # articles only as words
    assert normalize_answer("24–10") == "24–10"  # string.punctuation is ASCII only
    assert exact_match_score("Denver Broncos.", "the denver broncos")
    assert f1_score("Broncos", "Denver Broncos") == 2 * 1.0 * 0.5 / 1.5
    assert f1_score("a the", "the") == 0  # nothing left after normalisation: no overlap
    assert f1_score("red red blue", "red blue blue") == 2 * (2 / 3) * (2 / 3) / (4 / 3)  # multiset overlap


# -- logs the reference would crash on --------------------------------------------------------------


def _raw_log(tmp_path, records):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"seq_id": k, "qsl_idx": i, "data": d} for k, (i, d) in enumerate(records)]))
    return path


@pytest.mark.parametrize(
    "qsl_idx, data, says",
    [
        (18, "00000000" * 768, "qsl_idx is outside the data set's 18 features"),
        (0, "000000", "3 data bytes are not a whole number of float32 values"),
        (0, "00000000" * 3, "3 float32 values are not whole (start, end) logit pairs"),
        (0, "00000000" * 770, "385 (start, end) logit pairs, more than the 384 positions"),
    ],
)
def test_undecodable_records_name_the_record(tmp_path, ds, qsl_idx, data, says):
    log = _raw_log(tmp_path, [(1, "00000000" * 768), (qsl_idx, data)])
    with pytest.raises(AccuracyError) as info:
        evaluate_squad(log, ds)
    assert str(info.value).startswith(f"{log}:seq_id 1 (qsl_idx {qsl_idx}): {says}")


def test_short_records_are_padded_and_other_layouts_decode(tmp_path, ds):
    logits = oracle_logits(ds)
    # float16, transposed [2, 384]
    payloads = [np.stack([s, e]).astype("<f2").tobytes() for s, e in logits]
    log = write_accuracy_log(tmp_path / "t.json", payloads)
    assert evaluate_squad(log, ds, output_dtype="float16", output_transposed=True).official_line == PERFECT
    # records cut after the last real token: the rest is padded with -10000
    short = [
        interleaved(s[: int(ds.features.n_tokens[k])], e[: int(ds.features.n_tokens[k])])
        for k, (s, e) in enumerate(logits)
    ]
    assert evaluate_squad(write_accuracy_log(tmp_path / "s.json", short), ds).official_line == PERFECT


# -- the CLI and the benchmark's evaluate ------------------------------------------------------------


def test_edgeperf_accuracy_bert(cli, tmp_path, ds, squad_dir):
    log = _log(tmp_path, oracle_logits(ds, {"q-afc": ("Broncos", SUPER_BOWL.index("Broncos"))}))
    result = cli("accuracy", "bert-99", "--log", log, "--dataset", squad_dir, "--output", tmp_path / "accuracy.txt")
    assert result.exit_code == 0, result.output
    expected = '{"exact_match": 90.0, "f1": 96.66666666666666}'
    assert result.output.splitlines()[-1] == expected
    assert (tmp_path / "accuracy.txt").read_text().splitlines()[-1] == expected
    assert (tmp_path / "accuracy.txt").read_text().endswith(expected + "\n")


def test_edgeperf_accuracy_bert_bad_log(cli, tmp_path, squad_dir):
    log = _raw_log(tmp_path, [(99, "00")])
    result = cli("accuracy", "bert-99.9", "--log", log, "--dataset", squad_dir)
    assert result.exit_code == 2
    assert "qsl_idx is outside" in result.output and "Traceback" not in result.output
