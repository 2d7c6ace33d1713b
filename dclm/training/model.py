"""Decoder-only transformer with open_lm's architecture (what DCLM trains).

Per block: pre-norm, fused QKV projection, qk-norm (a norm over the full
d_model of queries and of keys, before the head split), rotary positions
(rotate-half form, base 10000), causal attention, then pre-norm SwiGLU with a
fused gate/up projection. No biases anywhere. Untied input and output
embeddings, a final norm. The default norm is open_lm's "gain_only_lp_layer_norm":
LayerNorm with a gain and no bias that, under autocast, runs in the autocast
dtype (MosaicML's low-precision LayerNorm) rather than being upcast to fp32.

Initialisation follows open_lm: truncated normal (±3 std) with std 1/sqrt(fan_in);
the two projections that write into the residual stream are further divided
by sqrt(2 * (layer + 1)).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from dclm.training.scales import Scale

_CDF_MINUS_3 = 0.5 * (1.0 + math.erf(-3.0 / math.sqrt(2.0)))


@torch.no_grad()
def _trunc_normal(weight: torch.Tensor, std: float) -> None:
    """N(0, std^2) truncated to +-3 std, by inverse-CDF sampling.

    This is the algorithm torch's trunc_normal_ used when open_lm was written.
    torch 2.13's version resamples out-of-range draws instead, the same
    distribution but several times slower on CPU (about 20 s for the two
    400m-1x embedding tables on 2 cores, against a few here).
    """
    weight.uniform_(2.0 * _CDF_MINUS_3 - 1.0, 1.0 - 2.0 * _CDF_MINUS_3)
    weight.erfinv_()
    weight.mul_(std * math.sqrt(2.0))
    weight.clamp_(-3.0 * std, 3.0 * std)


class _Linear(nn.Linear):
    """nn.Linear without its default init: ``Transformer.init_weights`` sets every weight once.

    Initialising twice would waste seconds on big scales, and a meta-device
    build (parameter counts) must not run any init kernel at all.
    """

    def reset_parameters(self) -> None:
        pass


class _Embedding(nn.Embedding):
    def reset_parameters(self) -> None:
        pass


class GainOnlyLayerNorm(nn.Module):
    def __init__(self, dim: int, eps: float, low_precision: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps
        self.low_precision = low_precision

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kind = x.device.type
        if self.low_precision and torch.is_autocast_enabled(kind):
            # Autocast would run layer_norm in fp32; the "lp" variant keeps bf16.
            dtype = torch.get_autocast_dtype(kind)
            with torch.autocast(kind, enabled=False):
                return F.layer_norm(x.to(dtype), self.weight.shape, self.weight.to(dtype), None, self.eps)
        return F.layer_norm(x, self.weight.shape, self.weight, None, self.eps)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.float()
        y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


def make_norm(scale: Scale, dim: int) -> nn.Module:
    if scale.norm == "rms_norm":
        return RMSNorm(dim, scale.norm_eps)
    return GainOnlyLayerNorm(dim, scale.norm_eps, low_precision=scale.norm == "gain_only_lp_layer_norm")


class Rotary(nn.Module):
    """Rotary embedding on [batch, time, heads, head_dim] tensors.

    The cos/sin tables (T x head_dim) are rebuilt per call: cheap, and nothing
    to keep in sync when the model moves between devices.
    """

    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        # Not persistent: derived from the config, so checkpoints need not carry it.
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def tables(self, length: int, device: torch.device, dtype: torch.dtype,
               positions: Optional[torch.Tensor] = None):
        """cos/sin tables for positions 0..length-1, or for explicit ``positions`` [B, T]."""
        if positions is None:
            freqs = torch.outer(torch.arange(length, device=device, dtype=torch.float32), self.inv_freq.to(device))
            angles = torch.cat((freqs, freqs), dim=-1)[None, :, None, :]
        else:
            freqs = positions.to(device=device, dtype=torch.float32)[..., None] * self.inv_freq.to(device)
            angles = torch.cat((freqs, freqs), dim=-1)[:, :, None, :]
        return angles.cos().to(dtype), angles.sin().to(dtype)

    @staticmethod
    def _rotate_half(x: torch.Tensor) -> torch.Tensor:
        first, second = x.chunk(2, dim=-1)
        return torch.cat((-second, first), dim=-1)

    def forward(self, q: torch.Tensor, k: torch.Tensor, positions: Optional[torch.Tensor] = None):
        cos, sin = self.tables(q.shape[1], q.device, q.dtype, positions)
        return q * cos + self._rotate_half(q) * sin, k * cos + self._rotate_half(k) * sin


class Attention(nn.Module):
    def __init__(self, scale: Scale, layer_id: int):
        super().__init__()
        d = scale.d_model
        self.n_heads, self.head_dim = scale.n_heads, scale.head_dim
        self.layer_id = layer_id
        self.in_proj = _Linear(d, 3 * d, bias=False)
        self.out_proj = _Linear(d, d, bias=False)
        self.q_norm = make_norm(scale, d) if scale.qk_norm else nn.Identity()
        self.k_norm = make_norm(scale, d) if scale.qk_norm else nn.Identity()
        self.rotary = Rotary(scale.head_dim, scale.rope_theta)

    def init_weights(self) -> None:
        std = 1.0 / math.sqrt(self.in_proj.in_features)
        _trunc_normal(self.in_proj.weight, std)
        _trunc_normal(self.out_proj.weight, std / math.sqrt(2 * (self.layer_id + 1)))

    def forward(self, x: torch.Tensor, positions: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        batch, length, _ = x.shape
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        q, k = self.q_norm(q), self.k_norm(k)
        shape = (batch, length, self.n_heads, self.head_dim)
        q, k = self.rotary(q.view(shape), k.view(shape), positions)
        q, k = q.to(v.dtype), k.to(v.dtype)
        v = v.view(shape)
        if attention_mask is None:
            out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                 is_causal=True)
        else:
            out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                 attn_mask=attention_mask[:, None])
        return self.out_proj(out.transpose(1, 2).reshape(batch, length, -1))


class SwiGLU(nn.Module):
    def __init__(self, scale: Scale, layer_id: int):
        super().__init__()
        self.layer_id = layer_id
        self.w12 = _Linear(scale.d_model, 2 * scale.ffn_hidden, bias=False)
        self.w3 = _Linear(scale.ffn_hidden, scale.d_model, bias=False)

    def init_weights(self) -> None:
        _trunc_normal(self.w12.weight, 1.0 / math.sqrt(self.w12.in_features))
        _trunc_normal(self.w3.weight, 1.0 / math.sqrt(self.w3.in_features) / math.sqrt(2 * (self.layer_id + 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, scale: Scale, layer_id: int):
        super().__init__()
        self.attention_norm = make_norm(scale, scale.d_model)
        self.attention = Attention(scale, layer_id)
        self.ffn_norm = make_norm(scale, scale.d_model)
        self.feed_forward = SwiGLU(scale, layer_id)

    def forward(self, x: torch.Tensor, positions: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x), positions, attention_mask)
        return x + self.feed_forward(self.ffn_norm(x))


class Transformer(nn.Module):
    def __init__(self, scale: Scale):
        super().__init__()
        self.scale = scale
        self.tok_embeddings = _Embedding(scale.vocab_size, scale.d_model)
        self.layers = nn.ModuleList(Block(scale, i) for i in range(scale.n_layers))
        self.norm = make_norm(scale, scale.d_model)
        self.output = _Linear(scale.d_model, scale.vocab_size, bias=False)

    @torch.no_grad()
    def init_weights(self) -> None:
        """open_lm's init, drawn from the torch RNG in a fixed order (output, embeddings, blocks)."""
        std = 1.0 / math.sqrt(self.scale.d_model)
        _trunc_normal(self.output.weight, std)
        _trunc_normal(self.tok_embeddings.weight, std)
        for block in self.layers:
            block.attention.init_weights()
            block.feed_forward.init_weights()
        for module in self.modules():
            if isinstance(module, (GainOnlyLayerNorm, RMSNorm)):
                module.weight.fill_(1.0)

    # The evaluator may pass explicit positions and an attention mask, to score
    # several continuations of one context in a single row (dclm.evaluation.packed_choices).
    accepts_positions_and_mask = True

    def forward(self, input_ids: torch.Tensor, positions: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """LongTensor[B, T] (T <= seq_len) -> float32 logits [B, T, vocab_size].

        With ``positions`` (LongTensor[B, T], each < seq_len) and ``attention_mask``
        (BoolTensor[B, T, T], True where a query may attend to a key) a row may be
        longer than seq_len: what bounds the model is the positions it saw in training.
        """
        return self.project(self.hidden_states(input_ids, positions, attention_mask))

    def hidden_states(self, input_ids: torch.Tensor, positions: Optional[torch.Tensor] = None,
                      attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The final-norm outputs [B, T, d_model]; ``project`` turns (some of) them into logits.

        The evaluator projects only the positions it scores: the output layer is
        half of a micro model's forward cost, and most positions of a
        multiple-choice prompt are never scored.
        """
        if (positions is None) != (attention_mask is None):
            raise ValueError("positions and attention_mask go together")
        if positions is None:
            if input_ids.shape[-1] > self.scale.seq_len:
                raise ValueError(f"sequence of {input_ids.shape[-1]} tokens exceeds seq_len {self.scale.seq_len}")
        elif positions.numel() and int(positions.max()) >= self.scale.seq_len:
            raise ValueError(f"position {int(positions.max())} is beyond seq_len {self.scale.seq_len}")
        x = self.tok_embeddings(input_ids)
        for layer in self.layers:
            x = layer(x, positions, attention_mask)
        return self.norm(x)

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.output(hidden).float()


def build_model(scale: Scale, device="cpu") -> Transformer:
    """A freshly initialised model; its weights depend only on the torch RNG state.

    ``device="meta"`` builds shapes without memory (parameter counts of big scales).
    """
    with torch.device(device):
        model = Transformer(scale)
    if torch.device(device).type != "meta":
        model.init_weights()
    return model


def count_parameters(model: nn.Module, include_embeddings: bool = True) -> int:
    """Parameters of a model; without embeddings = minus the input table (DCLM's params_no_embed)."""
    total = sum(p.numel() for p in model.parameters())
    if not include_embeddings:
        total -= model.tok_embeddings.weight.numel()
    return total


def parameter_count(scale: Scale, include_qk_norm: bool = True) -> int:
    """The same count from the config alone. DCLM's published 411,616,256 omits the qk-norm gains."""
    d, hidden = scale.d_model, scale.ffn_hidden
    per_layer = 4 * d * d + 3 * d * hidden + 2 * d
    if scale.qk_norm and include_qk_norm:
        per_layer += 2 * d
    return 2 * scale.vocab_size * d + d + scale.n_layers * per_layer


def flops_per_token(scale: Scale) -> float:
    """Training FLOPs per token: 6 per non-embedding weight, plus causal attention.

    Attention scores and their weighted sum cost 4*T*d per token and layer forward,
    half of it masked away by causality, times 3 for forward + backward: 6*L*T*d.
    """
    non_embedding = parameter_count(scale) - scale.vocab_size * scale.d_model
    return 6.0 * non_embedding + 6.0 * scale.n_layers * scale.seq_len * scale.d_model
