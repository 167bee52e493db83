"""RNN-T as the MLPerf v1.1 reference builds it (spec benchmarks.md §7.c), in torch.

* :class:`RNNTConfig` — the sizes (defaults: the reference's ``rnnt.toml``; smaller ones build
  small random models for tests), readable back from a state dict's tensor shapes.
* :func:`build_rnnt` — the module tree with the reference's state-dict names:
  ``encoder.pre_rnn.lstm.*`` (LSTM, 240 → 1024, 2 layers), stack-time ×2,
  ``encoder.post_rnn.lstm.*`` (LSTM, 2048 → 1024, 3 layers), ``prediction.embed.weight``
  (28 × 320; the blank has no embedding), ``prediction.dec_rnn.lstm.*`` (LSTM, 320 → 320,
  2 layers), ``joint.net.0.*`` (Linear 1344 → 512), ReLU, dropout, ``joint.net.3.*``
  (Linear 512 → 29).
* :func:`load_rnnt` — the official checkpoint (``torch.save({"state_dict": …})``): keys
  ``joint_net`` renamed ``joint.net``, the feature extractor's ``audio_preprocessor.*`` buffers
  dropped, a ``module.`` prefix (DataParallel) removed, then loaded strictly; the sizes are read
  from the tensors. Every missing, unexpected or misshapen tensor is reported at once.
* :class:`greedy_decoder` — the reference ``ScriptGreedyDecoder``: features float32
  ``[1, 240, T]`` in, label indices int64 ``[1, N]`` out.

Greedy decoding (per encoder frame, at most 30 symbols): run the prediction network on the last
emitted label (a zero vector before the first) with the current state; the joint network's
argmax (first maximum) is either the blank (28) — go to the next frame, state unchanged — or a
label, which is emitted and whose new prediction state is kept. The prediction network is only
re-run after an emission: the reference re-runs it on identical inputs, which gives the same
result.

torch is imported when a model is built or loaded, never when this module is imported.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from typing import Any, Mapping, Optional, Union

from ..errors import EdgeperfError, MissingExtraError, UsageError

__all__ = [
    "RNNTConfig",
    "RNNTCheckpointError",
    "MAX_SYMBOLS_PER_STEP",
    "build_rnnt",
    "migrate_state_dict",
    "read_checkpoint",
    "load_rnnt",
    "load_state",
    "official_checkpoint",
    "greedy_decoder",
    "transcribe",
]

#: The reference decoder's limit of non-blank symbols emitted per encoder frame.
MAX_SYMBOLS_PER_STEP = 30

_DROPPED_PREFIX = "audio_preprocessor."


class RNNTCheckpointError(EdgeperfError, ValueError):
    """A checkpoint that cannot be an RNN-T of the reference structure; names the file and why."""

    def __init__(self, path: Union[str, os.PathLike, None], reason: str):
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        super().__init__(f"RNN-T checkpoint '{self.path}': {reason}" if self.path else f"RNN-T checkpoint: {reason}")


@dataclass(frozen=True)
class RNNTConfig:
    """Sizes of an RNN-T; the defaults are the reference's (``[rnnt]`` of ``rnnt.toml``, 45.3 M parameters)."""

    in_features: int = 240  # 80 mel bands x 3 spliced frames
    encoder_hidden: int = 1024
    encoder_pre_rnn_layers: int = 2
    encoder_post_rnn_layers: int = 3
    stack_time_factor: int = 2
    pred_hidden: int = 320
    pred_rnn_layers: int = 2
    joint_hidden: int = 512
    num_classes: int = 29  # 28 labels + blank
    dropout: float = 0.32  # inactive at inference
    forget_gate_bias: float = 1.0  # initialisation only

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("dropout", "forget_gate_bias"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"RNNTConfig.{f.name} must be an int >= 1, got {value!r}")
        if self.num_classes < 2:
            raise UsageError("RNNTConfig.num_classes must be at least 2 (labels plus the blank)")

    @property
    def blank_index(self) -> int:
        """The blank is the last class (28 in the reference)."""
        return self.num_classes - 1

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any], path: Union[str, os.PathLike, None] = None) -> "RNNTConfig":
        """The sizes implied by a (migrated) state dict's tensor shapes."""

        def shape(key: str) -> tuple[int, ...]:
            t = state.get(key)
            if t is None or not hasattr(t, "shape"):
                sample = ", ".join(list(state)[:6]) or "none"
                raise RNNTCheckpointError(
                    path,
                    f"no tensor {key!r}; this is not a state dict of the reference RNN-T (its first keys: {sample})",
                )
            return tuple(int(d) for d in t.shape)

        def layers(prefix: str) -> int:
            n = 0
            while f"{prefix}.weight_ih_l{n}" in state:
                n += 1
            return n

        gates_h, in_features = shape("encoder.pre_rnn.lstm.weight_ih_l0")
        post_gates, post_in = shape("encoder.post_rnn.lstm.weight_ih_l0")
        classes_minus_blank, pred_hidden = shape("prediction.embed.weight")
        joint_hidden, joint_in = shape("joint.net.0.weight")
        num_classes, joint_hidden_out = shape("joint.net.3.weight")
        hidden = gates_h // 4
        if gates_h % 4 or post_gates != gates_h or hidden == 0 or post_in % hidden:
            raise RNNTCheckpointError(
                path,
                f"encoder LSTM shapes do not fit together (pre {gates_h}x{in_features}, post {post_gates}x{post_in})",
            )
        if (
            joint_in != hidden + pred_hidden
            or joint_hidden_out != joint_hidden
            or num_classes != classes_minus_blank + 1
        ):
            raise RNNTCheckpointError(
                path,
                f"joint/prediction shapes do not fit together (joint.net.0 {joint_hidden}x"
                f"{joint_in}, joint.net.3 {num_classes}x{joint_hidden_out}, embed "
                f"{classes_minus_blank}x{pred_hidden}, encoder hidden {hidden})",
            )
        return cls(
            in_features=in_features,
            encoder_hidden=hidden,
            encoder_pre_rnn_layers=layers("encoder.pre_rnn.lstm"),
            encoder_post_rnn_layers=layers("encoder.post_rnn.lstm"),
            stack_time_factor=post_in // hidden,
            pred_hidden=pred_hidden,
            pred_rnn_layers=layers("prediction.dec_rnn.lstm"),
            joint_hidden=joint_hidden,
            num_classes=num_classes,
        )


def _torch():
    try:
        import torch
    except ImportError as e:
        raise MissingExtraError(
            f"the RNN-T model needs torch ({e}); install a CPU build, e.g. pip install torch"
        ) from e
    return torch


@functools.cache
def _classes():
    """The module classes, defined on first use so that importing this module needs no torch."""
    torch = _torch()
    nn = torch.nn

    class LSTMBlock(nn.Module):
        """The reference's ``LstmDrop``: a plain ``nn.LSTM`` kept under ``.lstm``; the forget-gate
        bias initialised as the reference does (``bias_ih`` forget slice = value, ``bias_hh`` slice = 0)."""

        def __init__(self, input_size: int, hidden_size: int, num_layers: int, dropout: float, forget_gate_bias):
            super().__init__()
            self.lstm = nn.LSTM(
                input_size=input_size,
                hidden_size=hidden_size,
                num_layers=num_layers,
                dropout=float(dropout) if num_layers > 1 else 0.0,
            )
            if forget_gate_bias is not None:
                with torch.no_grad():
                    for name, param in self.lstm.named_parameters():
                        if name.startswith("bias_ih"):
                            param[hidden_size : 2 * hidden_size].fill_(float(forget_gate_bias))
                        elif name.startswith("bias_hh"):
                            param[hidden_size : 2 * hidden_size].zero_()

        def forward(self, x, state=None):
            return self.lstm(x, state)

    class StackTime(nn.Module):
        """Time-major ``[T, B, F]`` → ``[ceil(T/f), B, f·F]``: frames ``f·t … f·t+f−1`` side by side,
        zeros past the end."""

        def __init__(self, factor: int):
            super().__init__()
            self.factor = int(factor)

        def forward(self, x):
            steps, batch, feats = x.shape
            pad = (-steps) % self.factor
            if pad:
                x = torch.cat((x, x.new_zeros(pad, batch, feats)), dim=0)
            x = x.transpose(0, 1).reshape(batch, (steps + pad) // self.factor, feats * self.factor)
            return x.transpose(0, 1)

    class Encoder(nn.Module):
        def __init__(self, c: RNNTConfig):
            super().__init__()
            self.pre_rnn = LSTMBlock(
                c.in_features, c.encoder_hidden, c.encoder_pre_rnn_layers, c.dropout, c.forget_gate_bias
            )
            self.stack_time = StackTime(c.stack_time_factor)
            self.post_rnn = LSTMBlock(
                c.stack_time_factor * c.encoder_hidden,
                c.encoder_hidden,
                c.encoder_post_rnn_layers,
                c.dropout,
                c.forget_gate_bias,
            )

        def forward(self, x):
            """Features ``[T, B, F]`` (time-major) → encoded ``[B, ceil(T/f), H]``."""
            x, _ = self.pre_rnn(x, None)
            x = self.stack_time(x)
            x, _ = self.post_rnn(x, None)
            return x.transpose(0, 1)

    class Prediction(nn.Module):
        def __init__(self, c: RNNTConfig):
            super().__init__()
            self.hidden = c.pred_hidden
            self.embed = nn.Embedding(c.num_classes - 1, c.pred_hidden)
            self.dec_rnn = LSTMBlock(c.pred_hidden, c.pred_hidden, c.pred_rnn_layers, c.dropout, c.forget_gate_bias)

        def forward(self, labels=None, state=None, batch: int = 1):
            """Labels ``[B, U]`` (or None: one zero start-of-sequence step) → ``([B, U, P], state)``."""
            if labels is None:
                y = torch.zeros((batch, 1, self.hidden), dtype=self.embed.weight.dtype, device=self.embed.weight.device)
            else:
                y = self.embed(labels)
            g, state = self.dec_rnn(y.transpose(0, 1), state)
            return g.transpose(0, 1), state

        def step(self, label: Optional[int], state):
            """One step for one utterance: ``([1, P], state')``; ``state`` is None (zeros) or one
            ``(h, c)`` pair of ``[1, P]`` tensors per layer.

            Runs ``torch.lstm_cell`` layer by layer on the LSTM's own weights: the same kernel, hence
            the same numbers, as ``nn.LSTM``'s native CPU path, without its per-call set-up cost.
            """
            weight = self.embed.weight
            if label is None:
                x = torch.zeros((1, self.hidden), dtype=weight.dtype, device=weight.device)
            else:
                x = self.embed(torch.tensor([label], dtype=torch.int64, device=weight.device))
            lstm = self.dec_rnn.lstm
            if state is None:
                zeros = torch.zeros((1, lstm.hidden_size), dtype=weight.dtype, device=weight.device)
                state = [(zeros, zeros)] * lstm.num_layers
            new_state = []
            for layer, (h, c) in enumerate(state):
                h, c = torch.lstm_cell(
                    x,
                    (h, c),
                    getattr(lstm, f"weight_ih_l{layer}"),
                    getattr(lstm, f"weight_hh_l{layer}"),
                    getattr(lstm, f"bias_ih_l{layer}"),
                    getattr(lstm, f"bias_hh_l{layer}"),
                )
                new_state.append((h, c))
                x = h
            return x, new_state

    class Joint(nn.Module):
        def __init__(self, c: RNNTConfig):
            super().__init__()
            # Dropout is always present so the last layer is joint.net.3, as in the checkpoint.
            self.net = nn.Sequential(
                nn.Linear(c.encoder_hidden + c.pred_hidden, c.joint_hidden),
                nn.ReLU(),
                nn.Dropout(p=float(c.dropout)),
                nn.Linear(c.joint_hidden, c.num_classes),
            )

        def forward(self, f, g):
            """Encoder ``[B, T, H]`` and prediction ``[B, U, P]`` → logits ``[B, T, U, C]``."""
            batch, steps, h = f.shape
            _, labels, p = g.shape
            f = f.unsqueeze(2).expand(batch, steps, labels, h)
            g = g.unsqueeze(1).expand(batch, steps, labels, p)
            return self.net(torch.cat((f, g), dim=3))

    class RNNT(nn.Module):
        """The reference RNN-T (``model_separable_rnnt.RNNT``)."""

        def __init__(self, c: RNNTConfig):
            super().__init__()
            self.config = c
            self.encoder = Encoder(c)
            self.prediction = Prediction(c)
            self.joint = Joint(c)

        def forward(self, features):
            """Features ``[T, B, F]`` → encoded ``[B, T', H]`` (decoding is the decoder's job)."""
            return self.encoder(features)

    class GreedyDecoder(nn.Module):
        """The reference ``ScriptGreedyDecoder``: features ``[1, F, T]`` → label indices int64 ``[1, N]``."""

        def __init__(self, model, max_symbols_per_step: int = MAX_SYMBOLS_PER_STEP):
            super().__init__()
            if max_symbols_per_step < 1:
                raise ValueError(f"max_symbols_per_step must be at least 1, got {max_symbols_per_step!r}")
            self.model = model
            self.blank_index = model.config.blank_index
            self.max_symbols_per_step = int(max_symbols_per_step)

        def forward(self, features):
            if features.dim() != 3 or features.shape[0] != 1:
                raise ValueError(
                    f"the greedy decoder takes one utterance, features [1, F, T]; got {list(features.shape)}"
                )
            labels = self.decode(features)
            return torch.tensor(labels, dtype=torch.int64, device=features.device).reshape(1, len(labels))

        def decode(self, features) -> list[int]:
            """Features ``[1, F, T]`` → the emitted label indices."""
            encoded = self.model.encoder(features.permute(2, 0, 1))  # [T, 1, F] time-major → [1, T', H]
            return self.greedy(encoded[0])

        def greedy(self, encoded) -> list[int]:
            """Greedy RNN-T decoding of one utterance's encoder output ``[T', H]``."""
            prediction, net = self.model.prediction, self.model.joint.net
            blank, limit = self.blank_index, self.max_symbols_per_step
            labels: list[int] = []
            state = None
            g = next_state = None
            for t in range(encoded.shape[0]):
                f = encoded[t : t + 1]
                for _ in range(limit):
                    if g is None:
                        g, next_state = prediction.step(labels[-1] if labels else None, state)
                    k = int(torch.argmax(net(torch.cat((f, g), dim=1)), dim=1))
                    if k == blank:
                        break
                    labels.append(k)
                    state, g = next_state, None
            return labels

    classes = {
        "LSTMBlock": LSTMBlock,
        "StackTime": StackTime,
        "Encoder": Encoder,
        "Prediction": Prediction,
        "Joint": Joint,
        "RNNT": RNNT,
        "GreedyDecoder": GreedyDecoder,
    }
    for name, cls in classes.items():  # picklable by reference, through the module __getattr__ below
        cls.__qualname__ = name
        cls.__module__ = __name__
    return classes


_CLASS_NAMES = ("LSTMBlock", "StackTime", "Encoder", "Prediction", "Joint", "RNNT", "GreedyDecoder")


def __getattr__(name: str):
    """The module classes by name (``edgeperf.models.rnnt.RNNT``), built (and torch imported) on first use."""
    if name in _CLASS_NAMES:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_rnnt(config: Optional[RNNTConfig] = None, *, seed: Optional[int] = None):
    """A randomly initialised RNN-T (``torch.nn.Module``) of ``config`` (default: the reference sizes),
    in eval mode. ``seed`` makes the initialisation reproducible."""
    torch = _torch()
    config = config or RNNTConfig()
    if seed is None:
        model = _classes()["RNNT"](config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = _classes()["RNNT"](config)
    return model.eval()


def migrate_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """The official checkpoint's ``state_dict`` in this module's names.

    A ``module.`` prefix on every key (a DataParallel wrapper) is removed, ``joint_net`` becomes
    ``joint.net`` (as the reference's loader does), and the feature extractor's buffers
    (``audio_preprocessor.featurizer.fb`` and ``.window``: the features are computed outside the
    model) are dropped.
    """
    keys = list(state)
    strip = bool(keys) and all(k.startswith("module.") for k in keys)
    out: dict[str, Any] = {}
    for key, value in state.items():
        if strip:
            key = key[len("module.") :]
        if key.startswith(_DROPPED_PREFIX):
            continue
        out[key.replace("joint_net", "joint.net")] = value
    return out


def read_checkpoint(path: Union[str, os.PathLike]):
    """What a model file holds: a migrated state dict, or a torch module (TorchScript or pickled).

    A checkpoint dict's weights are taken from its ``state_dict`` entry (or the dict itself when
    its values are tensors). The file is read with ``torch.load(weights_only=True)`` first; only
    if that fails is it unpickled in full (which runs code from the file: use files you trust).
    """
    torch = _torch()
    p = os.fspath(path)
    if not os.path.exists(p):
        raise RNNTCheckpointError(p, "no such file")
    if not os.path.isfile(p):
        raise RNNTCheckpointError(p, "not a regular file (a directory?)")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = torch.load(p, map_location="cpu", weights_only=False)
        except Exception as e:
            detail = str(e).strip().splitlines()
            raise RNNTCheckpointError(
                p,
                f"torch cannot read it ({type(e).__name__}: {detail[0] if detail else ''}); "
                "expected the official RNN-T PyTorch checkpoint (torch.save of a dict "
                "with a 'state_dict') or a saved torch module",
            ) from None
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, Mapping):
        state = obj.get("state_dict", obj)
        if isinstance(state, Mapping) and state and all(isinstance(v, torch.Tensor) for v in state.values()):
            return migrate_state_dict(state)
        keys = ", ".join(map(str, list(obj)[:8]))
        raise RNNTCheckpointError(p, f"a dict without a 'state_dict' of tensors (its keys: {keys})")
    raise RNNTCheckpointError(p, f"holds a {type(obj).__name__}, not a checkpoint dict or a torch module")


def load_state(model, state: Mapping[str, Any], path: Union[str, os.PathLike, None] = None) -> None:
    """Load a migrated state dict strictly, reporting every missing, unexpected and misshapen tensor."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    misshapen = [
        f"{k} {list(state[k].shape)} (expected {list(own[k].shape)})"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    problems = []
    for what, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", misshapen)):
        if items:
            shown = ", ".join(items[:8]) + (f", … ({len(items)} in all)" if len(items) > 8 else "")
            problems.append(f"{what}: {shown}")
    if problems:
        raise RNNTCheckpointError(path, "does not fit the reference RNN-T: " + "; ".join(problems))
    model.load_state_dict(dict(state), strict=True)


def load_rnnt(path: Union[str, os.PathLike], config: Optional[RNNTConfig] = None):
    """The RNN-T of an official-format checkpoint, in eval mode on the CPU.

    ``config`` defaults to the sizes read from the checkpoint's tensors. Raises
    :class:`RNNTCheckpointError` naming the file for anything that is not such a checkpoint.
    """
    state = read_checkpoint(path)
    if not isinstance(state, Mapping):
        raise RNNTCheckpointError(path, f"holds a torch module ({type(state).__name__}), not an RNN-T checkpoint")
    config = config or RNNTConfig.from_state_dict(state, path)
    model = _classes()["RNNT"](config)
    load_state(model, state, path)
    return model.eval()


def official_checkpoint(model) -> dict[str, Any]:
    """``{"state_dict": …}`` in the official checkpoint's names (``joint_net.*``, plus the feature
    extractor's two buffers, zero-filled here), e.g. to write a test checkpoint with ``torch.save``."""
    torch = _torch()
    state = {k.replace("joint.net", "joint_net"): v.detach().clone() for k, v in model.state_dict().items()}
    state["audio_preprocessor.featurizer.fb"] = torch.zeros(1, 80, 257)
    state["audio_preprocessor.featurizer.window"] = torch.zeros(320)
    return {"state_dict": state, "epoch": 100}


def greedy_decoder(model, max_symbols_per_step: int = MAX_SYMBOLS_PER_STEP):
    """The reference greedy decoder around ``model`` (an RNN-T from :func:`build_rnnt` / :func:`load_rnnt`):
    a module mapping features float32 ``[1, F, T]`` to label indices int64 ``[1, N]``."""
    return _classes()["GreedyDecoder"](model, max_symbols_per_step).eval()


def transcribe(model, features, max_symbols_per_step: int = MAX_SYMBOLS_PER_STEP) -> list[int]:
    """Greedy-decode one utterance's features (numpy or tensor, ``[F, T]`` or ``[1, F, T]``)."""
    torch = _torch()
    decoder = model if hasattr(model, "greedy") else greedy_decoder(model, max_symbols_per_step)
    x = torch.as_tensor(features, dtype=torch.float32)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    device = next(decoder.parameters()).device
    with torch.inference_mode():
        return decoder.decode(x.to(device))
