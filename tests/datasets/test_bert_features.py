"""SQuAD examples → BERT features and the QSL (spec benchmarks.md §8.a-b).

Counts and spans are worked out by hand from the fixture text (see ``squad_fixtures``); every
feature is also compared with a literal transcription of the reference's
``convert_examples_to_features`` (lists and dicts), and the data-set errors a user can hit are
checked for a message naming the file and what was expected.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from edgeperf.datasets.base import DatasetError  # noqa: E402
from edgeperf.datasets.squad import SquadDataset, SquadQSL  # noqa: E402
from squad_fixtures import (  # noqa: E402
    QUESTION_IDS,
    SQUAD_DOCUMENT,
    SQUAD_VOCAB,
    answer_piece_span,
    make_squad,
    write_vocab,
)


@pytest.fixture(scope="module")
def squad_dir(tmp_path_factory):
    return make_squad(tmp_path_factory.mktemp("squad-features"))


@pytest.fixture(scope="module")
def ds(squad_dir) -> SquadDataset:
    return SquadDataset(squad_dir)


def test_examples_in_file_order(ds):
    assert [e.qas_id for e in ds.examples] == QUESTION_IDS
    assert ds.version == "1.1"
    cafe = ds.examples[3]
    assert cafe.doc_tokens == (
        "The",
        "café",
        "Señor",
        "Smith's",
        "opened",
        "in",
        "Zürich",
        "in",
        "1998,",
        "serving",
        "crème",
        "brûlée",
        "and\u00a0tea.",
        "Its",
        "owner",
        "is",
        "Señor",
        "Smith.",
    )
    assert ds.examples[4].doc_tokens is cafe.doc_tokens  # shared by the paragraph's questions
    assert ds.examples[0].answer_texts == ["Denver Broncos", "Denver Broncos", "Denver"]


def test_feature_counts_and_spans(ds):
    # Long paragraph: 57 filler sentences of 9 pieces + 8 + 8 + 9 = 538 pieces. A 6-piece question
    # leaves 384 - 6 - 3 = 375 per span: spans (0, 375), (128, 375), (256, 282) - three features.
    f = ds.features
    assert len(ds) == 18
    assert f.example_index.tolist() == [0, 1, 2, 3, 4, 5] + [6] * 3 + [7] * 3 + [8] * 3 + [9] * 3
    assert f.doc_span_index.tolist() == [0] * 6 + [0, 1, 2] * 4
    assert f.unique_id.tolist() == list(range(1_000_000_000, 1_000_000_018))
    # q-keeper "Who was the lighthouse keeper?" (6 pieces): 1 + 6 + 1 + span + 1
    assert f.n_tokens[6:9].tolist() == [384, 384, 8 + 282 + 1]
    assert int(np.count_nonzero(f.token_to_orig[8] >= 0)) == 282
    # q-long: the question is cut to 64 pieces: "who" + 63 x "really"
    long = ds.features.tokens(15)
    assert long[:2] == ["[CLS]", "who"] and long[2:65] == ["really"] * 63 and long[65] == "[SEP]"
    assert f.segment_ids[15, :66].tolist() == [0] * 66 and f.segment_ids[15, 66] == 1
    # 384 - 64 - 3 = 317 per span: (0, 317), (128, 317), (256, 282)
    assert [int(np.count_nonzero(f.token_to_orig[k] >= 0)) for k in (15, 16, 17)] == [317, 317, 282]


def test_short_paragraph_feature_by_hand(ds):
    feature = ds.features.feature(3)  # "Who owns the café?"
    assert feature.tokens == [
        "[CLS]",
        "who",
        "owns",
        "the",
        "cafe",
        "?",
        "[SEP]",
        "the",
        "cafe",
        "senor",
        "smith",
        "'",
        "s",
        "opened",
        "in",
        "[UNK]",
        "in",
        "1998",
        ",",
        "serving",
        "creme",
        "br",
        "##ul",
        "##ee",
        "and",
        "tea",
        ".",
        "its",
        "owner",
        "is",
        "senor",
        "smith",
        ".",
        "[SEP]",
    ]
    assert feature.token_to_orig_map == dict(
        zip(range(7, 33), [0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 11, 11, 12, 12, 12, 13, 14, 15, 16, 17, 17])
    )
    assert feature.token_is_max_context == {p: True for p in range(7, 33)}
    assert feature.input_ids[:34].tolist() == [SQUAD_VOCAB.index(t) for t in feature.tokens]
    assert feature.input_ids[34:].tolist() == [0] * 350
    assert feature.input_mask.tolist() == [1] * 34 + [0] * 350
    assert feature.segment_ids.tolist() == [0] * 7 + [1] * 27 + [0] * 350
    assert feature.unique_id == 1_000_000_003 and feature.example_index == 3 and feature.doc_span_index == 0


def test_max_context_of_an_answer_in_two_spans(ds):
    # q-harbor: "grace" (piece 300) is in all three spans but has the most context in span 1
    f = ds.features
    e = QUESTION_IDS.index("q-harbor")
    first, last = answer_piece_span(
        ds, e, "Grace Hopper", SQUAD_DOCUMENT["data"][1]["paragraphs"][0]["context"].index("Grace")
    )
    rows = [k for k in range(len(ds)) if f.example_index[k] == e]
    offset = 8  # [CLS] + "who was the harbor master ?" (6 pieces) + [SEP]; spans of 384 - 6 - 3 = 375
    in_span0 = offset + first
    in_span1 = offset + first - 128
    assert f.tokens(rows[0])[in_span0] == "grace" and f.tokens(rows[1])[in_span1] == "grace"
    left0, right0 = first, 374 - first  # span 0: pieces 0..374
    left1, right1 = first - 128, 502 - first  # span 1: pieces 128..502
    assert min(left1, right1) > min(left0, right0)  # the fixture puts it where span 1 wins
    assert not f.max_context[rows[0], in_span0] and f.max_context[rows[1], in_span1]
    in_span2 = offset + first - 256  # span 2 (pieces 256..537) holds it too, with less context
    assert f.tokens(rows[2])[in_span2] == "grace" and not f.max_context[rows[2], in_span2]


# -- a literal transcription of the reference, to compare every feature ------------------------


def _reference_features(ds, max_seq_length=384, doc_stride=128, max_query_length=64):
    tok = ds.tokenizer
    out = []
    for example_index, example in enumerate(ds.examples):
        query = tok.tokenize(example.question_text)[:max_query_length]
        tok_to_orig, all_doc = [], []
        for i, token in enumerate(example.doc_tokens):
            for sub in tok.tokenize(token):
                tok_to_orig.append(i)
                all_doc.append(sub)
        max_tokens = max_seq_length - len(query) - 3
        spans, start = [], 0
        while start < len(all_doc):
            length = min(len(all_doc) - start, max_tokens)
            spans.append((start, length))
            if start + length == len(all_doc):
                break
            start += min(length, doc_stride)
        for span_index, (start, length) in enumerate(spans):
            tokens = ["[CLS]"] + query + ["[SEP]"]
            segment = [0] * len(tokens)
            t2o, is_max = {}, {}
            for i in range(length):
                position = start + i
                t2o[len(tokens)] = tok_to_orig[position]
                best, best_index = None, None
                for j, (s, n) in enumerate(spans):
                    end = s + n - 1
                    if s <= position <= end:
                        score = min(position - s, end - position) + 0.01 * n
                        if best is None or score > best:
                            best, best_index = score, j
                is_max[len(tokens)] = best_index == span_index
                tokens.append(all_doc[position])
                segment.append(1)
            tokens.append("[SEP]")
            segment.append(1)
            ids = [tok.vocab[t] for t in tokens]
            mask = [1] * len(ids)
            pad = max_seq_length - len(ids)
            out.append(
                dict(
                    example_index=example_index,
                    doc_span_index=span_index,
                    tokens=tokens,
                    token_to_orig_map=t2o,
                    token_is_max_context=is_max,
                    input_ids=ids + [0] * pad,
                    input_mask=mask + [0] * pad,
                    segment_ids=segment + [0] * pad,
                )
            )
    return out


def _compare(ds, reference):
    assert len(ds) == len(reference)
    for k, ref in enumerate(reference):
        got = ds.features.feature(k)
        for key, value in ref.items():
            actual = getattr(got, key)
            actual = actual.tolist() if isinstance(actual, np.ndarray) else actual
            assert actual == value, (k, key)
        assert got.unique_id == 1_000_000_000 + k


def test_every_feature_matches_the_reference_transcription(ds):
    _compare(ds, _reference_features(ds))


@pytest.mark.parametrize("max_seq_length, doc_stride, max_query_length", [(32, 8, 8), (24, 5, 4), (40, 64, 16)])
def test_other_window_sizes_match_the_reference_transcription(squad_dir, max_seq_length, doc_stride, max_query_length):
    small = SquadDataset(
        squad_dir, max_seq_length=max_seq_length, doc_stride=doc_stride, max_query_length=max_query_length
    )
    assert small.features.input_ids.shape[1] == max_seq_length
    _compare(small, _reference_features(small, max_seq_length, doc_stride, max_query_length))


def test_count_keeps_the_first_features(squad_dir, ds):
    seven = SquadDataset(squad_dir, count=7)
    assert len(seven) == 7 and len(seven.examples) == len(ds.examples)  # examples stay complete
    assert np.array_equal(seven.features.input_ids, ds.features.input_ids[:7])
    assert seven.features.example_index.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert len(SquadDataset(squad_dir, count=1000)) == 18


# -- the QSL ------------------------------------------------------------------------------------


def test_qsl_batches_three_int64_inputs(ds):
    qsl = SquadQSL(ds, 18, name="bert-QSL")
    assert (qsl.name, qsl.total_sample_count, qsl.performance_sample_count) == ("bert-QSL", 18, 18)
    qsl.load_samples_to_ram([3, 7, 7, 12])
    batch = qsl.get_batch(np.array([12, 3, 7]))
    assert sorted(batch) == ["input_ids", "input_mask", "segment_ids"]
    for name, array in batch.items():
        assert array.dtype == np.int64 and array.shape == (3, 384) and array.flags.c_contiguous
        assert np.array_equal(array, getattr(ds.features, name)[[12, 3, 7]])
    with pytest.raises(KeyError, match="sample 4 of bert-QSL is not loaded"):
        qsl.get_batch([3, 4])
    qsl.unload_samples_from_ram([3, 7, 12])
    assert qsl.loaded_count == 0
    with pytest.raises(IndexError, match="QSL index 18 out of range"):
        qsl.load_samples_to_ram([18])
    assert ds.preprocessed(3).shape == (3, 384) and ds.sample(3)["input_ids"] is not None


# -- errors a user can hit ----------------------------------------------------------------------


def _folder(tmp_path, document=None, vocab=True, raw=None):
    folder = tmp_path / "squad"
    folder.mkdir()
    if raw is not None:
        (folder / "dev-v1.1.json").write_bytes(raw)
    else:
        (folder / "dev-v1.1.json").write_text(json.dumps(document or SQUAD_DOCUMENT), encoding="utf-8")
    if vocab:
        write_vocab(folder / "vocab.txt")
    return folder


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(
        DatasetError,
        match="SQuAD dataset folder .*missing.* does not exist: expected a folder holding dev-v1.1.json and vocab.txt",
    ):
        SquadDataset(tmp_path / "missing")


def test_missing_json(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError) as info:
        SquadDataset(tmp_path / "empty")
    assert str(tmp_path / "empty" / "dev-v1.1.json") in str(info.value) and "SQuAD v1.1 dev set" in str(info.value)


def test_missing_vocab_names_both_places(tmp_path):
    folder = _folder(tmp_path, vocab=False)
    with pytest.raises(DatasetError) as info:
        SquadDataset(folder)
    message = str(info.value)
    assert str(folder / "vocab.txt") in message and "bert_tf_v1_1_large_fp32_384_v2" in message
    assert "WordPiece vocabulary" in message


def test_vocab_in_the_reference_build_layout_and_json_path(tmp_path):
    folder = _folder(tmp_path, vocab=False)
    write_vocab(folder / "bert_tf_v1_1_large_fp32_384_v2" / "vocab.txt")
    assert len(SquadDataset(folder)) == 18
    assert len(SquadDataset(folder / "dev-v1.1.json")) == 18


def test_malformed_json_names_file_and_line(tmp_path):
    folder = _folder(tmp_path, raw=b'{"version": "1.1",\n "data": [\n  {"title": "x",, }\n]}\n')
    with pytest.raises(DatasetError) as info:
        SquadDataset(folder)
    message = str(info.value)
    assert message.startswith(f"{folder / 'dev-v1.1.json'}:3:")
    assert "not valid JSON" in message and "SQuAD v1.1 dev set" in message
    assert info.value.line == 3


def test_not_utf8_json(tmp_path):
    folder = _folder(tmp_path, raw=b'{"data": [], "version": "caf\xe9"}')
    with pytest.raises(DatasetError, match="is not UTF-8 text"):
        SquadDataset(folder)


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d.pop("data"), 'top level: missing "data"'),
        (
            lambda d: d["data"][0]["paragraphs"][1]["qas"][2].pop("question"),
            'data[0].paragraphs[1].qas[2]: missing "question"',
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0].__setitem__("context", 5),
            'data[1].paragraphs[0]: "context" must be a string',
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0]["answers"][1].__setitem__("text", None),
            'data[0].paragraphs[0].qas[0].answers[1]: "text" must be a string (the answer text), found null',
        ),
        (lambda d: d["data"].__setitem__(0, []), "data[0]: expected an object, found a list"),
    ],
)
def test_wrong_json_structure_names_the_place(tmp_path, mutate, where):
    document = json.loads(json.dumps(SQUAD_DOCUMENT))
    mutate(document)
    folder = _folder(tmp_path, document=document)
    with pytest.raises(DatasetError) as info:
        SquadDataset(folder)
    assert str(info.value).startswith(f"{folder / 'dev-v1.1.json'}: {where}")
