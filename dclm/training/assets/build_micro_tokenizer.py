"""Rebuild ``micro_bpe_8k.json``, the byte-level BPE tokenizer of the micro scale.

Why not GPT-NeoX at micro: with a 50k vocabulary the embedding and output
matrices of a d=256 model hold 26M parameters, several times the transformer
itself, and the 50k-way softmax dominates CPU time. An 8k vocabulary keeps the
model at a few million parameters and the run within minutes on 2 cores.

The training text is the main text of ``data/sample`` (which ships with the
repo), extracted with the toolkit's own default extractor, so anyone can rebuild
the file. The scale pins the file by sha256; rebuilding with another
``tokenizers`` version may give other merges, and then the hash check in
``dclm.training.tokenizer`` says so instead of silently training on different tokens.

    python -m dclm.training.assets.build_micro_tokenizer [--output PATH]
"""
from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

# One thread: the trainer's merge order must not depend on thread scheduling.
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample"
OUTPUT = Path(__file__).resolve().parent / "micro_bpe_8k.json"
VOCAB_SIZE = 8192
EOS = "<|endoftext|>"   # same spelling as GPT-NeoX, id 0 as there


def sample_texts(sample_dir: Path = SAMPLE) -> list[str]:
    """Main text of every HTML response in the sample WARCs, in file order."""
    from dclm.extract.html_text import decode_html, get_extractor
    from dclm.io.warc_records import Record, iter_archive

    extract = get_extractor("resiliparse")
    texts = []
    for path in sorted(sample_dir.glob("*.warc.gz")):
        for event in iter_archive(str(path)):
            if not isinstance(event, Record) or event.rec_type != "response":
                continue
            if "html" not in (event.content_type or "").lower():
                continue
            text = extract(decode_html(event.payload, event.content_type)).strip()
            if text:
                texts.append(text)
    return texts


def build(texts: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    # Byte-level like GPT-2/NeoX: every string is encodable, no unknown token.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    texts = sample_texts()
    tokenizer = build(texts)
    args.output.write_text(tokenizer.to_str(pretty=False), encoding="utf-8")
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"{len(texts)} documents, {sum(map(len, texts))} characters -> {args.output}")
    print(f"vocab {tokenizer.get_vocab_size()}, sha256 {digest}")


if __name__ == "__main__":
    main()
