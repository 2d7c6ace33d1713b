"""Near-duplicate corpus with known edits, built from the real dev WARC pages.

Every document belongs to a *family*: one base text plus variants derived by
seeded edits at known rates. Bases are the main text of real pages (resiliparse
``main_content=True``), then, once those run out, remixes of random paragraphs
of real pages, so any number of distinct families can be made. Edits:

* ``substitute:r`` / ``insert:r`` / ``delete:r`` — each word replaced by a
  corpus word, followed by an inserted corpus word, or dropped, with chance ``r``;
* ``boilerplate:k`` — ``k`` header and ``k`` footer lines of site chrome
  (navigation, cookie banner, copyright) added;
* ``reorder:f`` — a share ``f`` of paragraphs moved to random places;
* ``a+b`` — two edits in sequence.

A variant derives from the base, or (chains) from an earlier variant, as
near-duplicates spread on the web. Output: Parquet shards with ``id``,
``text``, ``source_id`` (the family's base) and ``edit`` (``original`` for a
base), rows shuffled across shards.

    python benchmarks/dedup_neardup_generator.py --out /tmp/neardup --num-docs 50000
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import time

import pyarrow as pa
import pyarrow.parquet as pq
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree
from warcio.archiveiterator import ArchiveIterator

WARC_GLOB = "/work/shared/corpus/warc/*.warc.gz"
MIN_BASE_WORDS = 50
WORD_EDIT_RATES = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2)
BOILERPLATE_LINES = (1, 2, 4, 8)
REORDER_SHARES = (0.2, 0.5, 1.0)
# Family sizes (base + variants) and how often each occurs: mostly unique
# pages, some pairs, a tail of large clusters, as in a crawl.
FAMILY_SIZES = (1, 2, 3, 4, 6, 10)
FAMILY_WEIGHTS = (0.35, 0.25, 0.15, 0.1, 0.1, 0.05)
CHROME = ("Home | About us | Contact | Blog | Shop", "Skip to main content",
          "We use cookies to improve your experience. Accept all cookies",
          "Subscribe to our newsletter", "Share on Facebook Share on Twitter",
          "All rights reserved.", "Privacy policy Terms of use Imprint",
          "Log in Register Forgot your password?", "Related posts", "Search this site")


def extract_pages(pattern: str = WARC_GLOB) -> list[tuple[str, str]]:
    """``(record id, main text)`` of every HTML response in the WARC files."""
    pages = []
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if "html" not in (record.http_headers.get_header("Content-Type") or "html"):
                    continue
                body = record.content_stream().read()
                try:
                    html = bytes_to_str(body, detect_encoding(body))
                    text = extract_plain_text(HTMLTree.parse(html), main_content=True)
                except Exception:       # a broken page is skipped, not fatal
                    continue
                if len(text.split()) >= MIN_BASE_WORDS:
                    pages.append((record.rec_headers.get_header("WARC-Record-ID"), text))
    return pages


class Editor:
    """Seeded edit operations on a text (words within lines are kept as lines)."""

    def __init__(self, rng: random.Random, vocabulary: list[str]):
        self.rng = rng
        self.vocabulary = vocabulary

    def _word_edit(self, text: str, rate: float, kind: str) -> str:
        rng, vocab, lines = self.rng, self.vocabulary, []
        for line in text.split("\n"):
            words = []
            for word in line.split():
                hit = rng.random() < rate
                if kind == "delete" and hit:
                    continue
                words.append(rng.choice(vocab) if kind == "substitute" and hit else word)
                if kind == "insert" and hit:
                    words.append(rng.choice(vocab))
            lines.append(" ".join(words))
        return "\n".join(lines)

    def _boilerplate(self, text: str, lines: int) -> str:
        site = f"{self.rng.choice(self.vocabulary).capitalize()} {self.rng.randrange(1000)}"
        pick = lambda: f"{self.rng.choice(CHROME)} {site}"   # noqa: E731
        footer = [pick() for _ in range(lines)] + [f"© {2000 + self.rng.randrange(25)} {site}"]
        return "\n".join([pick() for _ in range(lines)] + [text] + footer)

    def _reorder(self, text: str, share: float) -> str:
        paragraphs = [p for p in text.split("\n") if p.strip()]
        moved = {i for i in range(len(paragraphs)) if self.rng.random() < share}
        taken = [paragraphs[i] for i in sorted(moved)]
        rest = [p for i, p in enumerate(paragraphs) if i not in moved]
        for paragraph in taken:
            rest.insert(self.rng.randrange(len(rest) + 1), paragraph)
        return "\n".join(rest)

    def random_edit(self) -> str:
        """Name of a random single edit, e.g. ``substitute:0.02``."""
        kind = self.rng.choice(("substitute", "insert", "delete", "boilerplate", "reorder"))
        if kind == "boilerplate":
            return f"boilerplate:{self.rng.choice(BOILERPLATE_LINES)}"
        if kind == "reorder":
            return f"reorder:{self.rng.choice(REORDER_SHARES)}"
        return f"{kind}:{self.rng.choice(WORD_EDIT_RATES)}"

    def apply(self, text: str, edit: str) -> str:
        for step in edit.split("+"):
            kind, value = step.split(":")
            if kind == "boilerplate":
                text = self._boilerplate(text, int(value))
            elif kind == "reorder":
                text = self._reorder(text, float(value))
            else:
                text = self._word_edit(text, float(value), kind)
        return text


def generate(num_docs: int, seed: int = 0, pages: list[tuple[str, str]] | None = None
             ) -> list[dict]:
    """``num_docs`` rows (``id``, ``text``, ``source_id``, ``edit``), shuffled."""
    rng = random.Random(seed)
    pages = pages if pages is not None else extract_pages()
    paragraphs = [p for _, text in pages for p in text.split("\n") if len(p.split()) >= 5]
    vocabulary = sorted({w for _, text in pages for w in text.split()})
    editor = Editor(rng, vocabulary)
    base_order = list(range(len(pages)))
    rng.shuffle(base_order)
    rows: list[dict] = []
    family = 0
    while len(rows) < num_docs:
        if family < len(base_order):
            source_id, base = pages[base_order[family]]
        else:           # a remix: 4–12 random paragraphs of real pages
            source_id = f"remix-{family}"
            base = "\n".join(rng.choice(paragraphs) for _ in range(rng.randint(4, 12)))
        size = min(rng.choices(FAMILY_SIZES, FAMILY_WEIGHTS)[0], num_docs - len(rows))
        members = [(base, "original")]
        for _ in range(size - 1):
            parent_text, parent_edit = rng.choice(members) if rng.random() < 0.3 else members[0]
            edit = editor.random_edit()
            if rng.random() < 0.2:
                edit += "+" + editor.random_edit()
            full_edit = edit if parent_edit == "original" else f"{parent_edit}>{edit}"
            members.append((editor.apply(parent_text, edit), full_edit))
        for text, edit in members:
            # Random id prefixes: "lowest id" must not mean "the original".
            rows.append({"id": f"{rng.getrandbits(40):010x}-{len(rows):07d}", "text": text,
                         "source_id": source_id, "edit": edit})
        family += 1
    rng.shuffle(rows)
    return rows


def write_shards(rows: list[dict], out_dir: str, num_shards: int) -> list[str]:
    """Rows cut into ``num_shards`` Parquet files ``neardup-00000.parquet``, ..."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for shard in range(num_shards):
        part = rows[shard::num_shards]
        path = os.path.join(out_dir, f"neardup-{shard:05d}.parquet")
        pq.write_table(pa.table({k: [r[k] for r in part]
                                 for k in ("id", "text", "source_id", "edit")}), path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output directory for Parquet shards")
    parser.add_argument("--num-docs", type=int, default=50_000)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.time()
    pages = extract_pages()
    print(f"extracted {len(pages)} pages with >= {MIN_BASE_WORDS} words "
          f"in {time.time() - start:.1f}s")
    rows = generate(args.num_docs, args.seed, pages)
    paths = write_shards(rows, args.out, args.shards)
    families = len({r["source_id"] for r in rows})
    print(f"wrote {len(rows)} docs in {families} families to {len(paths)} shards "
          f"under {args.out} in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
