"""Our Gopher + C4 + FineWeb filter chain against datatrove's, on the same extracted text.

    python benchmarks/filter_speed.py [--warc-dir ../shared/corpus/warc] [--repeat 1]

Both sides run in this one process on one core, over the same documents (the
main text of every HTML response in the WARCs, extracted once up front). For
each family it reports docs/s and how often the keep/drop decisions agree.
The chains use datatrove's default thresholds on both sides, so a
disagreement is a difference of definition, not of setting; see
``DIFFERENCES`` below for the ones we know.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from dclm.runtime.ledger import ShardLedger
from pipelines.extract import iter_extracted

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WARCS = REPO.parent / "shared" / "corpus" / "warc"

DIFFERENCES = """\
Known definitional differences (ours vs datatrove):
* words: we split on whitespace (fastText's rule); datatrove tokenizes with
  spaCy, so punctuation becomes separate "words" there. This moves mean word
  length, symbol/word ratios and n-gram statistics.
* Gopher repetition: we count every copy of a duplicated line/paragraph and
  divide by the characters of the segments; datatrove counts repeats after the
  first and divides by len(text). N-grams are built from words without
  punctuation here.
* C4: identical defaults here (datatrove's 3 words/line, 5 sentences); our
  sentence splitter is rule-based, datatrove's is nltk punkt.
* FineWeb list ratio: newlines per word, where the word count differs as above.
"""


def extract_texts(warc_dir: Path) -> list[dict]:
    pages = []
    for warc in sorted(warc_dir.glob("*.warc.gz")):
        ledger = ShardLedger(shard=warc.name, stage="bench", input=str(warc), output="")
        pages.extend(iter_extracted(str(warc), warc.name, ledger))
    return pages


def our_families():
    from filters.registry import OPERATORS as ops

    def gopher_repetition(page):
        return bool(ops["massive_web_repetition_filters"].func(page))

    def gopher_quality(page):
        chain = [("page_length_filter", dict(length_type="word", min_length=50, max_length=100000)),
                 ("word_length_filter", dict(min_length=3, max_length=10)),
                 ("symbol_ratio_filter", dict(max_symbol_to_word_ratio=0.1)),
                 ("bullet_count_filter", dict(max_bullet_start_ratio=0.9)),
                 ("ellipsis_count_filter", dict(max_ellipsis_end_ratio=0.3)),
                 ("alphabetic_word_ratio_filter", dict(max_ratio=0.2)),
                 ("stop_word_filter", dict(min_stop_word=2))]
        return all(ops[name].func(page, **kwargs) for name, kwargs in chain)

    def c4(page):
        return bool(ops["c4_quality_filter"].func(page, min_num_sentences=5, min_words_per_line=3))

    def fineweb(page):
        return all(ops[name].func(page) for name in (
            "fineweb_line_punctuation_filter", "fineweb_short_line_filter",
            "fineweb_duplicate_char_filter", "fineweb_list_ratio_filter"))

    return {"gopher_repetition": gopher_repetition, "gopher_quality": gopher_quality, "c4": c4,
            "fineweb": fineweb}


def datatrove_families():
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = {"gopher_repetition": GopherRepetitionFilter(), "gopher_quality": GopherQualityFilter(),
               "c4": C4QualityFilter(), "fineweb": FineWebQualityFilter()}

    def wrap(flt):
        def decide(page):
            # C4QualityFilter rewrites doc.text; give each call its own Document.
            verdict = flt.filter(Document(text=page["text"], id=page["id"]))
            return verdict[0] if isinstance(verdict, tuple) else bool(verdict)
        return decide

    return {name: wrap(flt) for name, flt in filters.items()}


def run_family(decide, pages, repeat: int) -> tuple[list[bool], float]:
    decisions = [decide(page) for page in pages[:20]]           # warm-up: lazy loads, caches
    started = time.process_time()
    for _ in range(repeat):
        decisions = [decide(page) for page in pages]
    return decisions, (time.process_time() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warc-dir", type=Path, default=DEFAULT_WARCS)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    pages = extract_texts(args.warc_dir)
    ours, theirs = our_families(), datatrove_families()
    print(f"{len(pages)} documents from {args.warc_dir}; CPU seconds on one core\n")
    print(f"{'family':<20}{'ours docs/s':>14}{'datatrove docs/s':>18}{'speed-up':>10}{'agree':>8}"
          f"{'kept ours':>11}{'kept dt':>9}")
    total_ours = total_theirs = 0.0
    for family in ours:
        mine, t_mine = run_family(ours[family], pages, args.repeat)
        peer, t_peer = run_family(theirs[family], pages, args.repeat)
        total_ours += t_mine
        total_theirs += t_peer
        agree = sum(a == b for a, b in zip(mine, peer, strict=True)) / len(pages)
        print(f"{family:<20}{len(pages) / t_mine:>14.0f}{len(pages) / t_peer:>18.0f}{t_peer / t_mine:>9.1f}x"
              f"{agree:>8.1%}{sum(mine):>11}{sum(peer):>9}")
    print(f"{'whole chain':<20}{len(pages) / total_ours:>14.0f}{len(pages) / total_theirs:>18.0f}"
          f"{total_theirs / total_ours:>9.1f}x")
    print()
    print(DIFFERENCES)


if __name__ == "__main__":
    main()
