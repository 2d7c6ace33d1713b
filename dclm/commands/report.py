"""``dclm report``: write a static, self-contained HTML page about an output, run or comparison directory."""
from __future__ import annotations

import argparse

HELP = "write a self-contained HTML report of a stage output, training run or comparison"
DESCRIPTION = """\
Write one static HTML page describing DIR. What DIR holds decides what the
page shows:

  stage output (dclm run/filter/select/dedup: data/ shards and .dclm/ with
  stats.json, ledger/, dropped/, and work/NN_*/ segments of recipes with
  global steps; the page goes to DIR/.dclm/report.html):
      the funnel of documents and words per step across segments, dropped
      documents per filter with a few samples, language distribution,
      quality-score and document-length histograms, dedup cluster sizes
  training run (dclm train: config.json, metrics.jsonl; dclm eval:
  eval_<set>.json):
      the loss curve and the eval scores
  comparison (dclm compare: comparison.json):
      each recipe's metrics with 95% intervals, the paired differences,
      training curves of the runs and the funnel of each DIR/curated/<recipe>/

Words stand in for tokens: the page counts whitespace-separated words and
UTF-8 bytes of the Parquet text and says so. The page embeds its charts
(PNG) and styles, loads nothing from the network and contains no
JavaScript, so it opens offline; text from crawled pages is HTML-escaped.

  dclm report out/sample                       # writes out/sample/.dclm/report.html
  dclm report runs/raw/seed0 --output raw.html

exit codes: 0 written, 1 DIR is not one of the directories above (or a file
in it is damaged; the message names the file and field).
"""


def register(subparsers, add_execution_options) -> None:
    # No execution options: a report reads files on this machine and starts no Ray.
    parser = subparsers.add_parser("report", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", metavar="DIR", help="a stage output, training run or comparison directory")
    parser.add_argument("--output", "-o", metavar="FILE.html", default=None,
                        help="where to write the page (default: DIR/.dclm/report.html for a stage output, "
                             "else DIR/report.html)")
    # Accepted and ignored (there is no progress bar), so scripts that pass it to every command work.
    parser.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dclm.report import write_report

    target = write_report(args.directory, args.output)
    print(f"wrote {target}")
    return 0
