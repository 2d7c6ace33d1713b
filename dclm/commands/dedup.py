"""``dclm dedup minhash|exact|url|bff``: global deduplication of Parquet shards."""
from __future__ import annotations

import argparse

from dclm.commands.output_options import add_output_format
from dclm.errors import UsageError
from dclm.io.inputs import resolve_document_inputs
from dedup.minhash_config import DEFAULT_KEEPER_ROUNDS, DEFAULT_KEEPER_THRESHOLD, DEFAULT_VERIFY_THRESHOLD, UNSET

DESCRIPTION = """\
Remove duplicates across all input shards (Parquet or JSONL). Every method
writes the layout of the other stages: OUTPUT/data/<shard>.parquet (kept
documents; --output-format for JSONL), OUTPUT/.dclm/dropped/<shard>.parquet
(removed documents with dropped_step, dropped_reason, e.g. "minhash_duplicate
of <kept id>", and dropped_signals), OUTPUT/.dclm/ledger/<shard>.json and
OUTPUT/.dclm/stats.json (counts, parameters, method facts and seconds per
phase).

  minhash  near-duplicate documents: word n-gram MinHash, LSH bands,
           candidate pairs checked against the signatures (--verify-threshold),
           connected components; one survivor per cluster (--keep), and a
           document is removed only if its signature matches the survivor's
           (--keeper-threshold); members that fail are clustered again
  exact    identical text after normalization (NFKC, casefold, whitespace)
  url      identical URL after C4-style normalization
  bff      DCLM-Baseline's Bloom-filter dedup: repeated paragraphs removed,
           and documents whose n-grams were mostly seen before

Which copy survives: minhash keeps the lowest id (or the highest --keep
column) of each cluster; exact, url and bff keep the first occurrence in
shard-name order, then row order.

The global phases run over all shards and store their per-shard result
under OUTPUT/.dclm/phases/ (deleted once every shard is written). A rerun after
an interruption reuses that result when the inputs and parameters are the
same, writes only the shards that are missing (the result is deterministic),
and leaves a complete output directory alone.

  dclm dedup minhash --input out/extracted --output out/minhash
  dclm dedup METHOD --help     (each method's options)
"""


def _common(parser: argparse.ArgumentParser, add_execution_options) -> None:
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR",
                        help="Parquet or JSONL shards: files, globs, directories or a stage's output folder")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    add_output_format(parser)
    parser.add_argument("--id-column", default="id", help="document id column (default: id)")
    parser.add_argument("--dropped-sample", type=int, default=None, metavar="N",
                        help="write only the first N removed documents per shard to OUTPUT/.dclm/dropped/")
    parser.add_argument("--num-partitions", type=int, default=None, metavar="P",
                        help="hash partitions of the shuffles (default: one per cluster CPU, at most 64)")
    add_execution_options(parser)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _fraction_or_off(text: str) -> float | None:
    if text.lower() in ("off", "none"):
        return None
    return _fraction(text)


MINHASH_DESCRIPTION = """\
Remove near-duplicate documents across all shards: word n-gram MinHash
signatures, LSH bands to find candidate pairs, a signature check of each pair
(--verify-threshold), connected components, and one survivor per cluster
(--keep); a member is removed only if its signature matches the survivor's
(--keeper-threshold). Prints the S-curve of the chosen bands x rows first.

  dclm dedup minhash --input out/extracted --output out/minhash
  dclm dedup minhash --input out/run --output out/minhash --threshold 0.8 --annotate
"""
EXACT_DESCRIPTION = """\
Remove documents whose text is identical to an earlier one after
normalization (NFKC, case folding, white space folded; --raw compares bytes).
The first occurrence in shard-name order, then row order, is kept.

  dclm dedup exact --input out/extracted --output out/exact
"""
URL_DESCRIPTION = """\
Remove documents whose URL equals an earlier one's after C4-style
normalization. The first occurrence in shard-name order, then row order, is kept.

  dclm dedup url --input out/extracted --output out/url
"""
BFF_DESCRIPTION = """\
DCLM-Baseline's Bloom-filter dedup: paragraphs whose n-grams were mostly seen
earlier are removed, and so are whole documents whose n-grams were mostly
seen (--threshold). Shards are read in name order, so the first occurrence
survives.

  dclm dedup bff --input out/run --output out/bff
  dclm dedup bff --input out/run --output out/bff --groups 4 --annotate
"""
TEXT_COLUMN_HELP = "column that holds the document text (default: text)"


def _method_parser(methods, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    return methods.add_parser(name, help=help_text, description=description + "\n" + OUTPUT_NOTE,
                              formatter_class=argparse.RawDescriptionHelpFormatter)


OUTPUT_NOTE = """\
Writes OUTPUT/data/<shard>.parquet (kept), OUTPUT/.dclm/dropped/<shard>.parquet
(removed, with the reason), OUTPUT/.dclm/ledger/<shard>.json and
OUTPUT/.dclm/stats.json; see `dclm dedup --help` for what all methods share.
"""


def register(subparsers, add_execution_options) -> None:
    dedup = subparsers.add_parser("dedup", help="remove duplicates across all shards",
                                  description=DESCRIPTION,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    methods = dedup.add_subparsers(dest="method", metavar="METHOD", required=True)

    mh = _method_parser(methods, "minhash", "MinHash-LSH near-duplicate removal", MINHASH_DESCRIPTION)
    mh.add_argument("--ngram", type=int, default=5, help="words per shingle (default: 5)")
    mh.add_argument("--num-bands", type=int, default=None, help="LSH bands b (default: 14)")
    mh.add_argument("--rows-per-band", type=int, default=None, help="hashes per band r (default: 8)")
    mh.add_argument("--threshold", type=_fraction, default=None, metavar="J",
                    help="target Jaccard; without --num-bands/--rows-per-band, b x r is chosen "
                         "to fit it within --hash-budget; also the default of both checks below")
    mh.add_argument("--hash-budget", type=int, default=112, metavar="N",
                    help="most hash functions b x r when choosing by --threshold (default: 112)")
    mh.add_argument("--keep", default="lowest_id", metavar="lowest_id|COLUMN",
                    help="survivor of a cluster: lowest id (default) or highest numeric COLUMN")
    mh.add_argument("--verify-threshold", type=_fraction_or_off, default=UNSET, metavar="J|off",
                    help="keep an LSH candidate pair only if its signatures agree on >= J "
                         f"(default: --threshold if given, else {DEFAULT_VERIFY_THRESHOLD})")
    mh.add_argument("--keeper-threshold", type=_fraction_or_off, default=UNSET,
                    metavar="J|off",
                    help="remove a document only if its signature agrees with its cluster's "
                         f"survivor on >= J (default: --threshold if given, else "
                         f"{DEFAULT_KEEPER_THRESHOLD}); both off: remove whole clusters, "
                         "as FineWeb does")
    mh.add_argument("--keeper-rounds", type=int, default=DEFAULT_KEEPER_ROUNDS, metavar="N",
                    help="rounds of re-clustering documents that failed that check; those "
                         f"still failing are kept (default: {DEFAULT_KEEPER_ROUNDS})")
    mh.add_argument("--seed", type=int, default=1, help="hash seed (default: 1)")
    mh.add_argument("--fold-digits", action="store_true", help="treat all digits as 0")
    mh.add_argument("--text-column", default="text", help=TEXT_COLUMN_HELP)
    mh.add_argument("--annotate", action="store_true",
                    help="keep every document; add minhash_cluster (survivor id) and minhash_keep")
    _common(mh, add_execution_options)
    mh.set_defaults(handler=run)

    ex = _method_parser(methods, "exact", "exact duplicates of the normalized text", EXACT_DESCRIPTION)
    ex.add_argument("--column", default="text", help="column to compare (default: text)")
    ex.add_argument("--raw", action="store_true", help="compare byte for byte, no normalization")
    ex.add_argument("--annotate", action="store_true",
                    help="keep every document; add exact_duplicate_of (kept id, or null)")
    _common(ex, add_execution_options)
    ex.set_defaults(handler=run)

    url = _method_parser(methods, "url", "duplicate URLs (C4-style normalization)", URL_DESCRIPTION)
    url.add_argument("--column", default="url", help="URL column (default: url)")
    url.add_argument("--annotate", action="store_true",
                     help="keep every document; add url_duplicate_of (kept id, or null)")
    _common(url, add_execution_options)
    url.set_defaults(handler=run)

    bff = _method_parser(methods, "bff", "DCLM's Bloom-filter paragraph + document dedup", BFF_DESCRIPTION)
    bff.add_argument("--ngram", type=int, default=13, help="tokens per n-gram (default: 13)")
    bff.add_argument("--min-ngram", type=int, default=None,
                     help="paragraphs with fewer tokens are never removed (default: --ngram)")
    bff.add_argument("--threshold", type=float, default=0.8,
                     help="remove a paragraph/document when more than this share of its "
                          "n-grams was seen before (default: 0.8)")
    bff.add_argument("--fp-rate", type=float, default=1e-4,
                     help="Bloom filter false-positive rate per n-gram (default: 1e-4)")
    bff.add_argument("--groups", type=int, default=1,
                     help="independent filters, shard i in group i mod G (default: 1, one filter)")
    bff.add_argument("--text-column", default="text", help=TEXT_COLUMN_HELP)
    bff.add_argument("--annotate", action="store_true",
                     help="keep every document unchanged; add bff_duplicate, "
                          "bff_removed_paragraphs, bff_seen_ngram_fraction")
    _common(bff, add_execution_options)
    bff.set_defaults(handler=run)


def build_method(args: argparse.Namespace):
    """The ``DedupMethod`` for parsed arguments (also used by tests)."""
    from dedup.bff_config import BffConfig
    from dedup.minhash_config import MinHashConfig
    from pipelines.deduplication import methods as m

    try:
        if args.method == "minhash":
            # Only the checks given on the command line are passed: the others
            # follow --threshold or take their defaults, as in a recipe step.
            checks = {name: getattr(args, name) for name in ("verify_threshold", "keeper_threshold")
                      if getattr(args, name) is not UNSET}
            config = MinHashConfig.from_recipe(
                ngram=args.ngram, num_bands=args.num_bands, rows_per_band=args.rows_per_band,
                threshold=args.threshold, keep=args.keep, num_hashes_budget=args.hash_budget,
                seed=args.seed, fold_digits=args.fold_digits, text_column=args.text_column,
                id_column=args.id_column, num_partitions=args.num_partitions,
                keeper_rounds=args.keeper_rounds, **checks)
            return m.minhash_method(config, annotate=args.annotate)
        if args.method == "exact":
            return m.exact_method(args.column, raw=args.raw, id_column=args.id_column,
                                  annotate=args.annotate, num_partitions=args.num_partitions)
        if args.method == "url":
            return m.url_method(args.column, id_column=args.id_column, annotate=args.annotate,
                                num_partitions=args.num_partitions)
        config = BffConfig(ngram=args.ngram, min_ngram=args.min_ngram or args.ngram,
                           threshold=args.threshold, fp_rate=args.fp_rate, groups=args.groups,
                           text_column=args.text_column)
        return m.bff_method(config, annotate=args.annotate)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from pipelines.deduplication.methods import s_curve_table
    from pipelines.deduplication.stage import run_dedup

    method = build_method(args)
    inputs = resolve_document_inputs(args.input)
    from dclm.io.output_location import check_output_apart

    check_output_apart(args.output, inputs, args.input)
    if method.name == "minhash":
        from dedup.minhash_config import MinHashConfig

        params = method.params
        config = MinHashConfig(ngram=params["ngram"], num_bands=params["num_bands"],
                               rows_per_band=params["rows_per_band"])
        print(s_curve_table(config))
        if args.threshold is not None:
            chosen = args.num_bands is None and args.rows_per_band is None
            print(f"  threshold J = {args.threshold}: P(candidate) there "
                  f"{config.candidate_probability(args.threshold):.3f}"
                  + (f" (b x r chosen within {args.hash_budget} hashes)" if chosen else ""))
        verify, keeper = params["verify_threshold"], params["keeper_threshold"]
        print("  candidate check: " + ("off" if verify is None else
                                       f"pairs kept if their estimated Jaccard is >= {verify}"))
        print("  keeper check: " + ("off (every other member of a cluster is removed)"
                                    if keeper is None else
                                    f"a document is removed only if its estimated Jaccard with "
                                    f"the kept one is >= {keeper}"))
    code, _ = run_dedup(method, inputs, args.output, ray_address=args.ray_address,
                        num_cpus=args.num_cpus, force=args.force, progress=not args.no_progress,
                        dropped_sample=args.dropped_sample, output_format=args.output_format)
    return code
