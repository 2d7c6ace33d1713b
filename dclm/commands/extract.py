"""``dclm extract``: WARC files in, one Parquet file of documents per WARC out."""
from __future__ import annotations

import argparse

from dclm.commands.output_options import add_output_format, output_format_param
from dclm.errors import UsageError
from dclm.extract.html_text import EXTRACTORS
from dclm.io.inputs import check_unique_names, resolve_inputs
from dclm.runtime.executor import plan_jobs
from dclm.runtime.stage import run_stage
from pipelines.extract import DEFAULT_TIME_LIMIT_S, extract_shard

HELP = "extract main text from WARC/ARC files into Parquet"
DESCRIPTION = """\
Read WARC/ARC files (gzipped or plain), keep response records with an HTML
payload (and WET conversion records as they are), extract the main text and
write OUTPUT/<shard>.parquet with columns id, url, text, source, date, metadata.

INPUT may be a file, a directory, a glob, or a Common Crawl warc.paths(.gz)
listing, locally or at any fsspec URL (s3://, gs://, https://). Damaged records
are counted with their byte offsets in OUTPUT/.dclm/ledger/<shard>.json and skipped;
a file that is not an archive at all is reported as a failed shard.

  dclm extract data/sample --output out/extracted
  dclm extract --input ../shared/corpus/warc --output out/corpus --extractor trafilatura
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("extract", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    # --input as in every other command that reads documents; the positional form stays.
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="WARC files, directories, globs or listings")
    parser.add_argument("--input", "-i", nargs="+", default=[], dest="input_option", metavar="INPUT",
                        help="the same as the positional INPUT (either form, or both)")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory (local or fsspec URL)")
    parser.add_argument("--extractor", choices=EXTRACTORS, default="resiliparse",
                        help="resiliparse (default: fast, with boilerplate removal), resiliparse-bare (DCLM's "
                             "exact extraction: resiliparse main content, no removal) or trafilatura (slower)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, metavar="SECONDS",
                        help="per-document extraction time limit; slower pages are counted and skipped "
                             "(default: %(default)s)")
    parser.add_argument("--paths-prefix", default=None, metavar="URL",
                        help="prefix for relative lines of a warc.paths listing "
                             "(default: the Common Crawl HTTPS endpoint)")
    add_output_format(parser)
    add_execution_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    given = list(args.inputs) + list(args.input_option)
    if not given:
        raise UsageError("no input: name WARC files, directories, globs or listings (INPUT or --input)")
    kwargs = {"paths_prefix": args.paths_prefix} if args.paths_prefix else {}
    inputs = resolve_inputs(given, **kwargs)
    from dclm.io.output_location import check_output_apart

    check_output_apart(args.output, inputs, given)
    check_unique_names(inputs)
    params = {"extractor": args.extractor, "time_limit_s": args.time_limit, **output_format_param(args)}
    jobs = plan_jobs(inputs, args.output, params)
    return run_stage("extract", jobs, extract_shard, args.output, params, ray_address=args.ray_address,
                     num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)
