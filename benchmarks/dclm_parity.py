"""Parity with DCLM's own code: run a DCLM recipe both ways on the same texts.

    python benchmarks/dclm_parity.py --input EXTRACTED_DIR --dclm-root DCLM_CHECKOUT \\
        --dclm-python DCLM_VENV/bin/python [--recipe YAML] [--output report.json]

``--input`` is the Parquet output of ``dclm extract``. Both sides start from
exactly those texts: ours runs the recipe's steps in this process (each
step's function, page by page, as the pipeline does), DCLM's runs its own
mapper code under its own virtualenv (benchmarks/dclm_parity_driver.py).
Files are resolved once, by our recipe loader with ``--dclm-root``, and the
resolved paths go to both sides, so a list missing from DCLM's checkout
(its curated domain list is a separate download) is the same stand-in on
both. The fastText language model is the same file on both sides too
(``--lid-model``, default: ours, or ``$DCLM_LID_MODEL``).

Reported: keep/drop agreement of the whole chain, the share of pages both
keep whose final text is byte-identical, and, for every line modifier in
the recipe and those of DCLM's c4.yaml, the share of pages on which that
modifier alone gives the same result on the extracted text (same text, or
dropped by both). The first disagreements are listed with the step that
decided.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dclm.io.inputs import resolve_document_inputs  # noqa: E402
from dclm.io.parquet_shards import read_table  # noqa: E402
from dclm.recipe import RecipeStep, load_recipe  # noqa: E402
from filters.operator import MODIFIER  # noqa: E402
from filters.registry import OPERATORS  # noqa: E402

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dclm_parity_driver.py")
DEFAULT_RECIPE = "baselines/baselines_configs/dclm_baseline_refinedweb.yaml"
# The line modifiers of DCLM's c4.yaml, with its parameters: that recipe as a
# whole cannot run here (docs/dclm-parity.md), so they are compared one by one.
C4_MODIFIERS = {
    "c4:word_length_modifier": {"func": "word_length_modifier", "max_length": 1000, "model": "split"},
    "c4:citation_removal_modifier": {"func": "citation_removal_modifier"},
    "c4:punctuation_line_modifier": {"func": "punctuation_line_modifier", "remove_ellipses": True},
    "c4:line_length_modifier": {"func": "line_length_modifier", "min_length": 5},
    "c4:substring_line_modifier(javascript)": {"func": "substring_line_modifier", "banlist": ["javascript"]},
    "c4:substring_line_modifier(policies)": {
        "func": "substring_line_modifier",
        "banlist": ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                    "use cookies"]},
    "c4:within_page_dedup": {"func": "within_page_dedup", "granularity": "line", "normalize": True},
}


def read_pages(inputs: list[str], limit: int | None) -> list[dict]:
    pages = []
    for path in resolve_document_inputs(inputs):
        for row in read_table(path, columns=["id", "url", "text"]).to_pylist():
            # WARC record ids can repeat across files; results are keyed by
            # position so that no page hides another.
            row["id"] = f"{len(pages)}:{row['id']}"
            # DCLM's raw pages keep the URL in the WARC headers (move_url_modifier).
            pages.append({**row, "metadata": {"WARC-Target-URI": row["url"]}})
            if limit and len(pages) >= limit:
                return pages
    return pages


def ours_chain(steps, pages: list[dict]) -> dict:
    result = {}
    for original in pages:
        page = dict(original, metadata=dict(original["metadata"]))
        verdict = {"kept": True, "step": None, "error": None}
        for step in steps:
            try:
                out = step.op.func(page, **step.kwargs)
            except Exception as exc:  # noqa: BLE001 - counted, as DCLM counts errors
                out, verdict["error"] = [], repr(exc)
            if not out:
                verdict.update(kept=False, step=step.label)
                break
            page = out[0]
        if verdict["kept"]:
            verdict["text"] = page["text"]
        result[original["id"]] = verdict
    return result


def ours_single(step, pages: list[dict]) -> dict:
    result = {}
    for page in pages:
        try:
            out = step.op.func(dict(page), **step.kwargs)
        except Exception:  # noqa: BLE001
            out = []
        result[page["id"]] = out[0]["text"] if out else None
    return result


def dclm_side(args, job: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        job_path, out_path = os.path.join(tmp, "job.json"), os.path.join(tmp, "out.json")
        with open(job_path, "w", encoding="utf-8") as fh:
            json.dump(job, fh)
        subprocess.run([args.dclm_python, DRIVER, job_path, out_path], cwd=args.dclm_root, check=True)
        with open(out_path, encoding="utf-8") as fh:
            return json.load(fh)


def compare_chain(ours: dict, theirs: dict, show: int) -> dict:
    agree = same_text = both_kept = 0
    examples = []
    for page_id, mine in ours.items():
        other = theirs[page_id]
        if mine["kept"] == other["kept"]:
            agree += 1
            if mine["kept"]:
                both_kept += 1
                if mine["text"] == other["text"]:
                    same_text += 1
                elif len(examples) < show:
                    examples.append({"id": page_id, "kind": "text differs"})
        elif len(examples) < show:
            examples.append({"id": page_id, "kind": "decision differs", "ours": mine["step"] or "kept",
                             "dclm": other["step"] or "kept", "dclm_error": other.get("error")})
    n = len(ours)
    return {"pages": n, "decisions_agree": agree, "decision_agreement": agree / n if n else 1.0,
            "kept_ours": sum(v["kept"] for v in ours.values()),
            "kept_dclm": sum(v["kept"] for v in theirs.values()),
            "both_kept": both_kept, "identical_texts": same_text,
            "text_identity": same_text / both_kept if both_kept else 1.0, "examples": examples}


def compare_single(ours: dict, theirs: dict) -> dict:
    same = sum(ours[k] == theirs[k] for k in ours)
    return {"pages": len(ours), "identical": same, "identity": same / len(ours) if ours else 1.0,
            "differ": [k for k in ours if ours[k] != theirs[k]][:5]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", nargs="+", required=True, help="Parquet shards from `dclm extract`")
    parser.add_argument("--dclm-root", required=True, help="a checkout of mlfoundations/dclm")
    parser.add_argument("--dclm-python", required=True, help="the python of a virtualenv with DCLM's requirements")
    parser.add_argument("--recipe", default=None, help=f"a DCLM recipe (default: DCLM_ROOT/{DEFAULT_RECIPE})")
    parser.add_argument("--source", default=None, help="source block of a multi-source recipe")
    parser.add_argument("--lid-model", default=None, help="fastText lid.176 file used by both sides")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--show", type=int, default=10, help="disagreements to list")
    parser.add_argument("--output", default=None, help="write the report as JSON here")
    parser.add_argument("--no-c4-modifiers", action="store_true",
                        help="do not also compare the line modifiers of DCLM's c4.yaml one by one")
    args = parser.parse_args(argv)

    args.dclm_root = os.path.abspath(args.dclm_root)
    recipe = load_recipe(args.recipe or os.path.join(args.dclm_root, DEFAULT_RECIPE), args.source,
                         dclm_root=args.dclm_root)
    from filters.language_id import lid_model_path
    lid_model = os.path.abspath(args.lid_model or lid_model_path())
    os.environ["DCLM_LID_MODEL"] = lid_model
    pages = read_pages(args.input, args.limit)
    chain = [s for s in recipe.steps if s.op.kind != "global"]
    modifiers = {s.label: s for s in chain if s.op.kind == MODIFIER and s.name != "move_url_modifier"}
    if not args.no_c4_modifiers:
        for label, step in C4_MODIFIERS.items():
            kwargs = {k: v for k, v in step.items() if k != "func"}
            modifiers[label] = RecipeStep(number=0, name=step["func"], kwargs=kwargs,
                                          op=OPERATORS[step["func"]])
    job = {"lid_model": lid_model, "pages": pages,
           "chain": [{"func": s.name, **s.kwargs} for s in chain],
           "single": {label: {"func": s.name, **s.kwargs} for label, s in modifiers.items()}}

    started = time.perf_counter()
    theirs = dclm_side(args, job)
    dclm_secs = time.perf_counter() - started
    started = time.perf_counter()
    ours = ours_chain(chain, pages)
    single = {label: ours_single(step, pages) for label, step in modifiers.items()}
    our_secs = time.perf_counter() - started

    report = {"recipe": recipe.path, "lid_model": lid_model, "warnings": recipe.warnings,
              "seconds": {"ours": round(our_secs, 1), "dclm": round(dclm_secs, 1)},
              "chain": compare_chain(ours, theirs["chain"], args.show),
              "modifiers": {label: compare_single(single[label], theirs["single"][label])
                            for label in modifiers}}
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
