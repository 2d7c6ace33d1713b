"""fastText quality scoring speed: ours against datatrove's FastTextClassifierFilter, same model, one run.

    python benchmarks/classifier_speed.py [--model filters/models/quality_reference.ftz]
        [--warc-dir ../shared/corpus/warc] [--repeat 3] [--json OUT.json]

Every measurement runs in this one process on one core (numpy and fastText
scoring are single-threaded), so docs/s is docs/s per core. Documents are
the main text of every HTML page of the shared WARC corpus, extracted once
up front (not timed). Rows, each the best of ``--repeat`` interleaved runs:

* ours, ``score_texts``: the batch API (text preparation + exact numpy
  re-implementation of fastText's prediction, ``filters.fasttext_linear``);
* ours, shard: ``pipelines.classify.score_shard`` on Parquet shards, reading
  and writing Parquet included;
* ours, per page: the recipe step ``classify_fasttext_hq_prob_enricher``;
* fastText ``predict`` alone on a list of texts already prepared the way
  the model's card says (``dclm`` for the reference model, or ``normalize``);
* datatrove ``FastTextClassifierFilter`` (``keep_labels=("hq", 0.0)``: it
  keeps every document and stores the scores) over ``Document``s. It gets the
  texts already prepared, so it computes the same scores as ours (checked
  below) and is not charged for the preparation our rows include; a second
  datatrove row on the raw page text (its usual input) is shown for reference.

The speed-up is ours (score_texts) over datatrove on prepared text. If
datatrove is not installed, its rows say so and the ratio is not computed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dclm.io.parquet_shards import CORE_SCHEMA, write_rows  # noqa: E402
from dclm.runtime.executor import ShardJob  # noqa: E402
from dclm.runtime.ledger import ShardLedger  # noqa: E402
from filters import quality_classifier as qc  # noqa: E402
from filters.fasttext_text import prepare_texts  # noqa: E402
from pipelines.classify import score_shard  # noqa: E402
from pipelines.extract import iter_extracted  # noqa: E402

DEFAULT_WARCS = REPO.parent / "shared" / "corpus" / "warc"
DEFAULT_MODEL = REPO / "filters" / "models" / "quality_reference.ftz"


def extract_pages(warc_dir: Path) -> list[dict]:
    pages = []
    for warc in sorted(warc_dir.glob("*.warc.gz")):
        ledger = ShardLedger(shard=warc.name, stage="bench", input=str(warc), output="")
        pages.extend(iter_extracted(str(warc), warc.name, ledger))
    return pages


def datatrove_runner(model_path: str):
    """A function scoring a list of texts with datatrove's filter, or None if datatrove is missing."""
    try:
        from datatrove.data import Document
        from datatrove.pipeline.filters import FastTextClassifierFilter
    except ImportError:
        return None
    # datatrove copies a model into its cache under a name made from the path, and
    # never refreshes it: name the file by its content so a rebuilt model is not stale.
    with open(model_path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:16]
    model_path = os.path.join(tempfile.gettempdir(), f"classifier-speed-{digest}.ftz")
    if not os.path.exists(model_path):
        shutil.copyfile(fh.name, model_path)
    # keep_labels hq >= 0 keeps every document: the filter only annotates (datatrove 0.10
    # fails to load a model when neither keep_labels nor remove_labels is given).
    step = FastTextClassifierFilter(model_url=model_path, keep_labels=("hq", 0.0),
                                    save_labels_in_metadata=True, newline_replacement=" ")
    _ = step.model  # load (and cache) the model before timing

    def run(texts: list[str]) -> np.ndarray:
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        out = list(step.run(iter(docs)))
        return np.array([d.metadata.get("__label__hq", 0.0) for d in out])
    return run


def best_of(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, dict]:
    """Run every callable ``repeat`` times, interleaved, and keep each one's times."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: {"best_s": min(t), "median_s": statistics.median(t)} for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--warc-dir", type=Path, default=DEFAULT_WARCS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    pages = extract_pages(args.warc_dir)
    texts = [p["text"] for p in pages]
    n_docs, n_chars = len(texts), sum(map(len, texts))
    print(f"{n_docs} documents, {n_chars / n_docs:.0f} characters on average; model {args.model} "
          f"({os.path.getsize(args.model):,} bytes)")

    model = qc.load_quality_model(args.model)
    prepared = prepare_texts(texts, model.text_prep)
    scorer = "numpy (exact fastText re-implementation)" if model.linear else "fastText predict (fallback)"
    ours = qc.score_texts(args.model, texts)
    tmp = tempfile.mkdtemp(prefix="classifier-speed-")
    shards = []
    for k in range(4):
        path = os.path.join(tmp, f"in-{k}.parquet")
        write_rows(path, pages[k::4], schema=CORE_SCHEMA)
        shards.append(ShardJob(name=f"in-{k}", input=path, output=os.path.join(tmp, f"out-{k}.parquet"),
                               ledger=os.path.join(tmp, "ledger", f"in-{k}.json"),
                               params={"model": model.path}))
    runs: dict[str, Callable[[], object]] = {
        "ours: score_texts": lambda: qc.score_texts(args.model, texts),
        "ours: score_shard (Parquet in/out)": lambda: [score_shard(job) for job in shards],
        "ours: per-page enricher": lambda: [qc.classify_fasttext_hq_prob_enricher(
            {"text": t}, model_filename=args.model) for t in texts],
        f"fastText predict ({model.text_prep} text)": lambda: model.predict_lines(prepared),
    }
    datatrove = datatrove_runner(model.path)
    agreement = None
    if datatrove is not None:
        theirs = datatrove(prepared) - 1e-5            # fastText reports p + 1e-5
        agreement = float(np.max(np.abs(theirs - ours)))
        runs["datatrove FastTextClassifierFilter (prepared text)"] = lambda: datatrove(prepared)
        runs["datatrove FastTextClassifierFilter (raw text)"] = lambda: datatrove(texts)
    results = best_of(runs, args.repeat)

    print(f"scorer: {scorer}; one process, one core; best of {args.repeat}")
    print(f"{'':54}{'docs/s':>10}{'median':>10}")
    for name, r in results.items():
        r["docs_per_s"] = n_docs / r["best_s"]
        r["docs_per_s_median"] = n_docs / r["median_s"]
        print(f"{name:54}{r['docs_per_s']:>10.0f}{r['docs_per_s_median']:>10.0f}")
    summary = {"documents": n_docs, "model": args.model, "scorer": scorer, "results": results}
    if datatrove is None:
        print("datatrove not installed (pip install 'datatrove[processing]'): no comparison")
    else:
        base = results["datatrove FastTextClassifierFilter (prepared text)"]["docs_per_s"]
        ratio = results["ours: score_texts"]["docs_per_s"] / base
        shard_ratio = results["ours: score_shard (Parquet in/out)"]["docs_per_s"] / base
        summary.update({"speedup_vs_datatrove": ratio, "shard_speedup_vs_datatrove": shard_ratio,
                        "max_abs_score_difference": agreement})
        print(f"speed-up over datatrove: {ratio:.2f}x (score_texts), {shard_ratio:.2f}x (score_shard "
              f"with Parquet I/O); largest score difference {agreement:.2g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summary, fh, indent=2)


if __name__ == "__main__":
    main()
