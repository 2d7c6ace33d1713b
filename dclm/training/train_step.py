"""One optimizer step as open_lm takes it: schedule, loss with z-loss, accumulation, clipping.

Shared by ``dclm train`` and ``dclm train --dry-run`` so that the dry run
exercises the same code as a real run.

* AdamW over every parameter with the scale's weight decay (open_lm puts no
  parameter in a no-decay group).
* Learning rate: linear warmup ``lr * (step + 1) / warmup``, then cosine from
  ``lr`` down to ``min_lr`` at the last step (open_lm's ``cosine_lr``).
* Loss: cross-entropy plus ``z_loss * mean(logsumexp(logits))**2``. This is
  open_lm's formula (the square of the mean log-partition, where PaLM squares
  each token's); we keep it so our z_loss coefficient means what DCLM's does.
"""
from __future__ import annotations

import contextlib
import math

import torch


def build_optimizer(model: torch.nn.Module, scale, device_type: str) -> torch.optim.Optimizer:
    # fused kernels only on GPU; on CPU the default (foreach) path is deterministic.
    extra = {"fused": True} if device_type == "cuda" else {}
    return torch.optim.AdamW(model.parameters(), lr=scale.lr, betas=(scale.adam_beta1, scale.adam_beta2),
                             eps=scale.adam_eps, weight_decay=scale.weight_decay, **extra)


def learning_rate(scale, step: int, total_steps: int | None = None) -> float:
    """Learning rate of optimizer step ``step`` (0-based)."""
    total = scale.total_steps if total_steps is None else total_steps
    if step < scale.warmup_steps:
        return scale.lr * (step + 1) / scale.warmup_steps
    span = total - scale.warmup_steps
    if span <= 0:
        return scale.lr
    progress = min(1.0, (step - scale.warmup_steps) / span)
    return scale.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (scale.lr - scale.min_lr)


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, z_loss: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(cross-entropy, z-loss term) of logits [B, T, V] against targets [B, T].

    Both terms come from one log-partition: cross-entropy is logsumexp minus the
    target's logit, the same value F.cross_entropy computes, but the vocabulary-
    wide softmax passes are paid once instead of twice (a third of a micro step
    on CPU, where the 8k-way softmax is as costly as the matrix products).
    """
    flat = logits.reshape(-1, logits.shape[-1]).float()
    log_partition = torch.logsumexp(flat, dim=-1)
    target_logit = flat.gather(1, targets.reshape(-1, 1)).squeeze(1)
    ce = (log_partition - target_logit).mean()
    if z_loss:
        z = z_loss * log_partition.mean().square()
    else:
        z = torch.zeros((), device=logits.device)
    return ce, z


def autocast_for(scale, device_type: str):
    """bf16 autocast on GPU for the "amp_bf16" policy; plain fp32 everywhere else."""
    if scale.dtype == "amp_bf16" and device_type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def optimizer_step(model, optimizer, scale, batch: torch.Tensor, step: int, total_steps: int | None = None) -> dict:
    """Train on ``batch`` (LongTensor [global_batch, seq_len + 1]) as one step; returns its metrics."""
    lr = learning_rate(scale, step, total_steps)
    for group in optimizer.param_groups:
        group["lr"] = lr
    device_type = batch.device.type
    micro = min(scale.micro_batch, batch.shape[0])
    chunks = batch.split(micro)
    ce_total = torch.zeros((), device=batch.device)
    z_total = torch.zeros((), device=batch.device)
    for chunk in chunks:
        inputs, targets = chunk[:, :-1], chunk[:, 1:]
        with autocast_for(scale, device_type):
            logits = model(inputs)
        ce, z = lm_loss(logits, targets, scale.z_loss)
        # Each micro-batch is an equal share of the step's mean loss.
        ((ce + z) / len(chunks)).backward()
        ce_total += ce.detach() / len(chunks)
        z_total += z.detach() / len(chunks)
    # grad_clip <= 0 means no clipping; the norm is still measured and logged.
    max_norm = scale.grad_clip if scale.grad_clip > 0 else float("inf")
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {"loss": ce_total.item(), "z_loss": z_total.item(), "lr": lr, "grad_norm": grad_norm.item()}
