"""Reading a tokenized directory for training: which sequences make step N's batch.

The order is a pure function of (seed, step): sample k of the run is sequence
``perm_e[k mod n]`` of epoch ``e = k div n``, where ``perm_e`` is a permutation
seeded by (seed, e). So a resumed run sees exactly the batches an uninterrupted
one would, two seeds see the same data in different orders, and data smaller
than the budget is repeated epoch by epoch, each pass reshuffled.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dclm.errors import UsageError
from dclm.io.digests import file_sha256 as _sha256
from dclm.training.tokenize_data import FORMAT, manifest_sha256, read_manifest


class TokenDataset:
    def __init__(self, directory, verify: bool = True):
        self.directory = Path(directory)
        manifest = read_manifest(self.directory)
        if manifest is None:
            raise UsageError(f"{directory} is not a tokenized dataset (no manifest.json; run `dclm tokenize`)")
        if manifest.get("format") != FORMAT:
            raise UsageError(f"{directory}: unknown token format {manifest.get('format')!r}")
        self.manifest = manifest
        self.manifest_hash = manifest_sha256(self.directory)
        self.width = manifest["sequence_width"]
        self.arrays = []
        for shard in manifest["shards"]:
            path = self.directory / shard["name"]
            if not path.is_file():
                raise UsageError(f"{directory}: shard {shard['name']} is missing")
            if verify and _sha256(path) != shard["sha256"]:
                raise UsageError(f"{directory}: shard {shard['name']} does not match its manifest sha256")
            array = np.load(path, mmap_mode="r")
            if array.ndim != 2 or array.shape != (shard["sequences"], self.width):
                raise UsageError(f"{directory}: shard {shard['name']} has shape {array.shape}")
            self.arrays.append(array)
        self.offsets = np.cumsum([0] + [a.shape[0] for a in self.arrays])
        self.num_sequences = int(self.offsets[-1])
        if self.num_sequences != manifest["num_sequences"]:
            raise UsageError(f"{directory}: shards hold {self.num_sequences} sequences, manifest says "
                             f"{manifest['num_sequences']}")
        self._epoch_cache: tuple[int, int, np.ndarray] | None = None

    @property
    def dataset_tokens(self) -> int:
        """Predicted positions in one pass: sequences x seq_len."""
        return self.num_sequences * (self.width - 1)

    def check_compatible(self, scale) -> None:
        """Training needs the same tokenizer and sequence length the data was cut with."""
        m = self.manifest
        if m["tokenizer_sha256"] != scale.tokenizer_sha256:
            raise UsageError(f"{self.directory} was tokenized with {m['tokenizer']} ({m['tokenizer_sha256'][:12]}), "
                             f"scale {scale.name!r} uses {scale.tokenizer} ({scale.tokenizer_sha256[:12]})")
        if m["seq_len"] != scale.seq_len:
            raise UsageError(f"{self.directory} holds sequences for seq_len {m['seq_len']}, "
                             f"scale {scale.name!r} needs {scale.seq_len}")

    def _permutation(self, seed: int, epoch: int) -> np.ndarray:
        if self._epoch_cache is None or self._epoch_cache[:2] != (seed, epoch):
            rng = np.random.Generator(np.random.PCG64([seed, epoch]))
            self._epoch_cache = (seed, epoch, rng.permutation(self.num_sequences))
        return self._epoch_cache[2]

    def sequence(self, index: int) -> np.ndarray:
        shard = int(np.searchsorted(self.offsets, index, side="right")) - 1
        return self.arrays[shard][index - self.offsets[shard]]

    def sample_indices(self, seed: int, step: int, batch: int) -> list[int]:
        indices = []
        for k in range(step * batch, (step + 1) * batch):
            epoch, position = divmod(k, self.num_sequences)
            indices.append(int(self._permutation(seed, epoch)[position]))
        return indices

    def batch(self, seed: int, step: int, batch: int) -> np.ndarray:
        """int64 array [batch, seq_len + 1] of optimizer step ``step`` (0-based)."""
        rows = [self.sequence(i) for i in self.sample_indices(seed, step, batch)]
        return np.stack(rows).astype(np.int64)


