"""How many pages the UTF-8-first charset rule decodes differently, and what changes.

    python benchmarks/decoding_change.py [WARC_DIR_OR_FILE ...]   (default: ../shared/corpus/warc and data/sample)

Before: the HTTP header's charset, then the <meta> tag, then resiliparse's
statistical detection. After (``dclm.extract.html_text.html_encoding``): the same,
except that a page declaring nothing whose bytes are valid UTF-8 is read as
UTF-8. For every HTML response record, both decodings are compared, and so
are the default extractor's texts. Printed: counts (pages, pages whose
decoded HTML changed, pages whose extracted text changed), the encodings
detection had chosen for the changed pages, and a few changed words.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from resiliparse.parse.encoding import bytes_to_str, detect_encoding  # noqa: E402

from dclm.extract.charset_check import checked_decode  # noqa: E402
from dclm.extract.html_text import charset_from_content_type, decode_html  # noqa: E402
from dclm.extract.main_content import extract_main_content  # noqa: E402
from dclm.io.warc_records import Record, iter_archive  # noqa: E402
from pipelines.extract import _is_html  # noqa: E402

DEFAULT_INPUTS = [REPO.parent / "shared" / "corpus" / "warc", REPO / "data" / "sample"]


def decode_before(payload: bytes, content_type) -> tuple[str, str]:
    """The rule before UTF-8 came first, with the same plausibility check as ``decode_html``."""
    encoding = charset_from_content_type(content_type) or detect_encoding(payload, from_html_meta=True)
    text = checked_decode(payload, encoding, lambda data, name: bytes_to_str(data, name, errors="replace"),
                          lambda data: detect_encoding(data, from_html_meta=False))
    return text, encoding


def changed_words(before: str, after: str, limit: int = 2) -> list[str]:
    words_before, words_after = re.findall(r"\S+", before), re.findall(r"\S+", after)
    pairs = []
    matcher = difflib.SequenceMatcher(a=words_before, b=words_after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace":
            pairs.append(f"{' '.join(words_before[i1:i2])[:40]!r} -> {' '.join(words_after[j1:j2])[:40]!r}")
        if len(pairs) >= limit:
            break
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    args = parser.parse_args()
    for root in args.inputs:
        warcs = sorted(root.glob("*.warc.gz")) if root.is_dir() else [root]
        pages = html_changed = text_changed = 0
        detected = collections.Counter()
        examples = []
        for warc in warcs:
            for event in iter_archive(str(warc)):
                if not isinstance(event, Record) or event.rec_type != "response" or not _is_html(event):
                    continue
                pages += 1
                before, encoding = decode_before(event.payload, event.content_type)
                after = decode_html(event.payload, event.content_type)
                if before == after:
                    continue
                html_changed += 1
                detected[encoding.lower()] += 1
                text_before, text_after = extract_main_content(before), extract_main_content(after)
                if text_before != text_after:
                    text_changed += 1
                    if len(examples) < 5:
                        examples.append((warc.name, event.header("WARC-Target-URI"),
                                         changed_words(text_before, text_after)))
        print(f"{root}: {len(warcs)} WARC files, {pages:,} HTML pages; decoded HTML changed on "
              f"{html_changed:,}, extracted text changed on {text_changed:,}")
        if detected:
            print("  detection had chosen: " + ", ".join(f"{name} {n}" for name, n in detected.most_common()))
        for name, url, words in examples:
            print(f"  {name} {url}: {'; '.join(words) or '(white space only)'}")


if __name__ == "__main__":
    main()
