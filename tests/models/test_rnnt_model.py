"""The RNN-T module, checkpoint loading and greedy decoding (spec benchmarks.md §7.c-d).

The greedy decoder is checked against an independent decoder written here straight from the spec
(the prediction network re-run at every step through ``nn.LSTM`` on ``[B, U, H]`` tensors, the
joint network on its 4-D broadcast form), on every fixture clip and on models that emit few
symbols, many, and the maximum 30 per frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from audio_fixtures import CLIPS, KEPT_POSITIONS, SMALL_SIZES, clip_signal, small_rnnt, write_checkpoint  # noqa: E402
from edgeperf.backends import ModelFileError, ModelMismatchError, get_backend  # noqa: E402
from edgeperf.benchmarks import get_benchmark  # noqa: E402
from edgeperf.benchmarks.speech import load_rnnt_module  # noqa: E402
from edgeperf.datasets.librispeech import FilterbankFeatures  # noqa: E402
from edgeperf.models.rnnt import (  # noqa: E402
    MAX_SYMBOLS_PER_STEP,
    RNNTCheckpointError,
    RNNTConfig,
    build_rnnt,
    greedy_decoder,
    load_rnnt,
    migrate_state_dict,
    official_checkpoint,
    read_checkpoint,
    transcribe,
)

BLANK = 28

# torch.backends.mkldnn.flags() (used to pin nn.LSTM to its native kernel) warns about Intel GPUs
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN:UserWarning")


@pytest.fixture(scope="module")
def features() -> list[np.ndarray]:
    featurizer = FilterbankFeatures()
    return [featurizer(clip_signal(CLIPS[k]).astype(np.float32) / np.float32(32768)) for k in KEPT_POSITIONS]


def _reference_greedy(model, feats: np.ndarray, max_symbols: int = MAX_SYMBOLS_PER_STEP):
    """The spec's greedy loop, literally: (labels, symbols emitted per encoder frame)."""
    with torch.inference_mode(), torch.backends.mkldnn.flags(enabled=False):
        x = torch.from_numpy(feats)[None].permute(2, 0, 1)  # [T, 1, 240]
        encoded = model.encoder(x)  # [1, T', H]
        labels, per_frame = [], []
        hidden = None
        for t in range(encoded.shape[1]):
            f = encoded[:, t : t + 1, :]  # [1, 1, H]
            emitted = 0
            for _ in range(max_symbols):
                if labels:
                    g, hidden_prime = model.prediction(torch.tensor([[labels[-1]]]), hidden)
                else:
                    g, hidden_prime = model.prediction(None, None)  # the zero start vector
                logits = model.joint(f, g)[0, 0, 0, :]
                k = int(logits.max(0)[1])
                if k == BLANK:
                    break
                labels.append(k)
                hidden = hidden_prime
                emitted += 1
            per_frame.append(emitted)
    return labels, per_frame


# -- structure ----------------------------------------------------------------------------------


def _reference_names() -> dict[str, tuple[int, ...]]:
    names = {}
    for prefix, layers, inputs, hidden in (
        ("encoder.pre_rnn.lstm", 2, 240, 1024),
        ("encoder.post_rnn.lstm", 3, 2048, 1024),
        ("prediction.dec_rnn.lstm", 2, 320, 320),
    ):
        for n in range(layers):
            names[f"{prefix}.weight_ih_l{n}"] = (4 * hidden, inputs if n == 0 else hidden)
            names[f"{prefix}.weight_hh_l{n}"] = (4 * hidden, hidden)
            names[f"{prefix}.bias_ih_l{n}"] = (4 * hidden,)
            names[f"{prefix}.bias_hh_l{n}"] = (4 * hidden,)
    names["prediction.embed.weight"] = (28, 320)
    names["joint.net.0.weight"] = (512, 1344)
    names["joint.net.0.bias"] = (512,)
    names["joint.net.3.weight"] = (29, 512)
    names["joint.net.3.bias"] = (29,)
    return names


def test_the_reference_architecture_names_shapes_and_size():
    model = build_rnnt(seed=0)
    state = model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == _reference_names()
    assert sum(p.numel() for p in model.parameters()) == 45_323_037  # "45.3 M parameters"
    assert RNNTConfig.from_state_dict(state) == RNNTConfig()
    assert RNNTConfig().blank_index == BLANK
    # forget-gate bias initialised as the reference's LstmDrop: 1 in bias_ih, 0 in bias_hh
    bias_ih, bias_hh = state["prediction.dec_rnn.lstm.bias_ih_l1"], state["prediction.dec_rnn.lstm.bias_hh_l0"]
    assert torch.all(bias_ih[320:640] == 1.0) and torch.all(bias_hh[320:640] == 0.0)
    assert isinstance(model.joint.net[2], torch.nn.Dropout) and model.joint.net[2].p == pytest.approx(0.32)
    assert not model.training


def test_stack_time_concatenates_pairs_with_zeros_past_the_end():
    model = build_rnnt(RNNTConfig(**SMALL_SIZES), seed=0)
    x = torch.arange(5 * 1 * 3, dtype=torch.float32).reshape(5, 1, 3)  # T=5, B=1, F=3
    y = model.encoder.stack_time(x)
    assert y.shape == (3, 1, 6)
    assert torch.equal(y[0, 0], torch.cat((x[0, 0], x[1, 0])))
    assert torch.equal(y[1, 0], torch.cat((x[2, 0], x[3, 0])))
    assert torch.equal(y[2, 0], torch.cat((x[4, 0], torch.zeros(3))))
    encoded = model.encoder(torch.zeros(67, 1, 240))
    assert encoded.shape == (1, 34, 32)  # [B, ceil(T/2), H]


def test_start_of_sequence_is_a_zero_vector():
    model = small_rnnt()
    with torch.inference_mode(), torch.backends.mkldnn.flags(enabled=False):
        g, state = model.prediction.step(None, None)
        h, (hn, cn) = model.prediction.dec_rnn.lstm(torch.zeros(1, 1, 16))
        assert torch.equal(g, h[0])
        assert torch.equal(torch.stack([s[0] for s in state]), hn)
        g2, _ = model.prediction.step(5, state)
        h2, _ = model.prediction.dec_rnn.lstm(model.prediction.embed(torch.tensor([[5]])), (hn, cn))
        assert torch.equal(g2, h2[0])


# -- greedy decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "blank_bias"), [(1, 2.0), (0, 1.0), (2, 0.0), (1, 3.0)], ids=["few", "many", "saturated", "sparse"]
)
def test_greedy_decoder_equals_the_spec_loop(features, seed, blank_bias):
    model = small_rnnt(seed, blank_bias)
    decoder = greedy_decoder(model)
    for feats in features:
        want, per_frame = _reference_greedy(model, feats)
        with torch.inference_mode(), torch.backends.mkldnn.flags(enabled=False):
            got = decoder(torch.from_numpy(feats)[None])
        assert got.dtype == torch.int64 and got.shape == (1, len(want))
        assert got[0].tolist() == want
        assert max(per_frame) <= MAX_SYMBOLS_PER_STEP
        assert BLANK not in want and all(0 <= k < BLANK for k in want)
        assert len(per_frame) == (feats.shape[1] + 1) // 2


def test_at_most_thirty_symbols_per_frame(features):
    model = small_rnnt(2, 0.0)  # never predicts the blank first
    labels, per_frame = _reference_greedy(model, features[0])
    assert per_frame == [MAX_SYMBOLS_PER_STEP] * 17  # 34 frames -> 17 encoder frames, 30 each
    assert transcribe(model, features[0]) == labels
    limited = greedy_decoder(model, max_symbols_per_step=3)
    with torch.inference_mode():
        assert len(limited.decode(torch.from_numpy(features[0])[None])) == 3 * 17


def test_decoder_takes_one_utterance():
    decoder = greedy_decoder(small_rnnt())
    with pytest.raises(ValueError, match=r"one utterance, features \[1, F, T\]"):
        decoder(torch.zeros(2, 240, 10))


def test_through_the_torch_backend(features):
    bench = get_benchmark("rnnt")
    backend = get_backend("torch", threads=1)
    model = small_rnnt()
    backend.load_module(greedy_decoder(model), bench.signature, name="small")
    out = backend.predict({"features": features[1][None]}, ["tokens"])["tokens"]
    assert out.dtype == np.int64 and out.shape[0] == 1
    assert out[0].tolist() == transcribe(model, features[1])


# -- checkpoints --------------------------------------------------------------------------------


def test_official_checkpoint_round_trip(tmp_path, features):
    model = small_rnnt()
    path = write_checkpoint(tmp_path / "rnnt.pt", model)
    raw = torch.load(path, weights_only=True)
    assert "joint_net.0.weight" in raw["state_dict"] and "joint_net.3.bias" in raw["state_dict"]
    assert "audio_preprocessor.featurizer.fb" in raw["state_dict"]
    assert "audio_preprocessor.featurizer.window" in raw["state_dict"]
    assert not any(k.startswith("joint.net") for k in raw["state_dict"])
    loaded = load_rnnt(path)
    assert loaded.config == RNNTConfig(**SMALL_SIZES)
    mine, theirs = model.state_dict(), loaded.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert transcribe(loaded, features[2]) == transcribe(model, features[2])


def test_prefixes_and_bare_state_dicts(tmp_path):
    model = small_rnnt()
    official = official_checkpoint(model)["state_dict"]
    wrapped = {f"module.{k}": v for k, v in official.items()}  # saved from a DataParallel wrapper
    torch.save({"state_dict": wrapped, "epoch": 100}, tmp_path / "ddp.pt")
    torch.save(official, tmp_path / "bare.pt")
    for name in ("ddp.pt", "bare.pt"):
        state = read_checkpoint(tmp_path / name)
        assert set(state) == set(model.state_dict())
    assert migrate_state_dict({"joint_net.0.weight": 1, "audio_preprocessor.featurizer.fb": 2}) == {
        "joint.net.0.weight": 1
    }


def test_checkpoint_errors_name_the_file_and_the_problem(tmp_path):
    model = small_rnnt()
    state = official_checkpoint(model)["state_dict"]

    not_torch = tmp_path / "notes.pt"
    not_torch.write_text("not a checkpoint")
    with pytest.raises(RNNTCheckpointError, match=r"notes\.pt'.*torch cannot read it"):
        read_checkpoint(not_torch)
    with pytest.raises(RNNTCheckpointError, match="no such file"):
        read_checkpoint(tmp_path / "missing.pt")

    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2)}}, tmp_path / "other.pt")
    with pytest.raises(RNNTCheckpointError, match=r"no tensor 'encoder\.pre_rnn\.lstm\.weight_ih_l0'.*fc\.weight"):
        load_rnnt(tmp_path / "other.pt")

    torch.save({"optimizer": {"lr": 0.1}}, tmp_path / "nostate.pt")
    with pytest.raises(RNNTCheckpointError, match="without a 'state_dict' of tensors"):
        read_checkpoint(tmp_path / "nostate.pt")

    broken = dict(state)
    del broken["encoder.post_rnn.lstm.bias_hh_l2"]
    broken["extra.weight"] = torch.zeros(1)
    broken["prediction.dec_rnn.lstm.weight_hh_l1"] = torch.zeros(64, 15)
    torch.save({"state_dict": broken}, tmp_path / "broken.pt")
    with pytest.raises(RNNTCheckpointError) as info:
        load_rnnt(tmp_path / "broken.pt")
    message = str(info.value)
    assert "broken.pt" in message
    assert "missing: encoder.post_rnn.lstm.bias_hh_l2" in message
    assert "unexpected: extra.weight" in message
    assert "wrong shape: prediction.dec_rnn.lstm.weight_hh_l1 [64, 15] (expected [64, 16])" in message


def test_the_benchmark_loader_checks_features_and_classes(tmp_path):
    narrow = build_rnnt(RNNTConfig(in_features=128, num_classes=30, **SMALL_SIZES), seed=0)
    path = write_checkpoint(tmp_path / "narrow.pt", narrow)
    with pytest.raises(ModelMismatchError) as info:
        load_rnnt_module(path)
    message = str(info.value)
    assert "narrow.pt" in message and "2 mismatches" in message
    assert "input features: expected 240 (80 mel bands x 3 spliced frames), found 128" in message
    assert "output classes: expected 29 (28 labels and the blank), found 30" in message

    (tmp_path / "junk.pt").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match=r"junk\.pt"):
        load_rnnt_module(tmp_path / "junk.pt")

    # a whole module saved with torch.save is used as it is; an RNN-T module gets the decoder
    torch.save(small_rnnt(), tmp_path / "module.pt")
    wrapped = load_rnnt_module(tmp_path / "module.pt")
    assert hasattr(wrapped, "greedy")


def test_a_module_file_is_used_as_it_is(tmp_path):
    decoder = greedy_decoder(small_rnnt())
    torch.save(decoder, tmp_path / "decoder.pt")
    assert type(load_rnnt_module(Path(tmp_path / "decoder.pt"))).__name__ == "GreedyDecoder"
