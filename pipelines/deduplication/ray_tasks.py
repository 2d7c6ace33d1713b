"""One generic Ray task that runs a plain function and splits its output.

Every distributed step of MinHash dedup is a Ray-agnostic "body":
``body(inputs: list, **kwargs) -> list`` of ``num_returns`` outputs, usually
one part per downstream partition. ``submit`` runs it as a Ray task with
``num_returns`` object refs, so each downstream task fetches only its part.
Inputs are passed as top-level task arguments, which makes Ray resolve the
object refs among them in the worker, never in the driver.

The caller owns the Ray runtime: nothing here calls ``ray.init``.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence


def _run_body(body: Callable[..., list], num_returns: int, kwargs: dict, *inputs: Any):
    outputs = list(body(list(inputs), **kwargs))
    if len(outputs) != num_returns:
        raise RuntimeError(f"{body.__name__} returned {len(outputs)} outputs, "
                           f"expected {num_returns}")
    # Ray stores a single return value as is, several as a sequence of refs.
    return outputs[0] if num_returns == 1 else outputs


@functools.cache
def _remote_runner():
    import ray  # imported lazily: the pure dedup functions must not need Ray
    return ray.remote(_run_body)


def submit(body: Callable[..., list], num_returns: int, inputs: Sequence[Any] = (),
           **kwargs: Any) -> list:
    """Run ``body(list(inputs), **kwargs)`` as a Ray task; a list of output refs."""
    if num_returns < 1:
        raise ValueError("a task needs at least one output")
    refs = _remote_runner().options(num_returns=num_returns).remote(
        body, num_returns, kwargs, *inputs)
    return [refs] if num_returns == 1 else list(refs)


def transpose(outputs: Sequence[Sequence[Any]], num_targets: int) -> list[list[Any]]:
    """From ``outputs[task][target]`` to ``inputs[target]`` (list over tasks)."""
    return [[outputs[task][target] for task in range(len(outputs))]
            for target in range(num_targets)]


def submit_per_group(body: Callable[..., list], counts: Sequence[Any], parts: Sequence[Sequence[Any]],
                     num_groups: int, member_kwargs: Callable[[list[int]], dict]) -> list:
    """One ``body`` task per group of shards; one output ref per shard, in shard order.

    Shard ``s`` belongs to group ``s mod num_groups``. A group's task gets its
    shards' ``counts`` followed by ``parts[g]`` (what the upstream tasks sent
    to group ``g``), and the keyword arguments ``member_kwargs(members)`` gives
    for its shards; it returns one output per shard.
    """
    per_shard: list = [None] * len(counts)
    for g in range(num_groups):
        members = list(range(g, len(counts), num_groups))
        if not members:
            continue
        refs = submit(body, len(members), [counts[s] for s in members] + list(parts[g]), **member_kwargs(members))
        for s, ref in zip(members, refs, strict=True):
            per_shard[s] = ref
    return per_shard


def cluster_cpus() -> int:
    """CPUs of the running Ray cluster (at least 1)."""
    import ray
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
