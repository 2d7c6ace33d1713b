"""DCLM's side of benchmarks/dclm_parity.py: run DCLM's own mapper code on pages.

This file runs under DCLM's virtualenv with the current directory at a
DCLM checkout; it imports nothing from this project. It reads a job file
(JSON: the steps to chain, the single steps to try one by one, the pages)
and writes, per page, what DCLM's code made of it.

DCLM imports every mapper module at once, including some whose packages
only a few recipes need (kenlm, sentencepiece, transformers); a module
that does not import is replaced by an empty stand-in so the others load.
A step that then touches a stand-in fails, which shows up as an error.
"""
from __future__ import annotations

import json
import os
import sys
import types


def _stub(name: str) -> None:
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: type(attr, (), {})  # any "from x import Y"
    module.__path__ = []
    sys.modules[name] = module


def _import_dclm():
    root = os.getcwd()
    sys.path[:0] = [root, os.path.join(root, "baselines")]
    for _ in range(20):
        try:
            from baselines.core.factories import get_mapper  # noqa: I001 (factory first, as DCLM loads it)
            # DCLM's factory imports mappers as "mappers.…", a second copy of
            # each module besides "baselines.mappers.…"; patch that one.
            import mappers.enrichers.language_id_enrichers as lid
            return get_mapper, lid
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.startswith(("baselines", "core", "mappers")):
                raise
            _stub(exc.name)
            for loaded in [m for m in sys.modules if m.startswith(("baselines", "core", "mappers"))]:
                del sys.modules[loaded]
    raise RuntimeError("could not import DCLM's mappers")


def _mapper(get_mapper, step: dict):
    kwargs = {k: v for k, v in step.items() if not k.startswith("_")}
    return get_mapper(**kwargs)


def _apply(func, page: dict):
    """DCLM's processor: a step that raises counts as an error and the page is gone."""
    try:
        out = func(page)
    except Exception as exc:  # noqa: BLE001 - mirrors DCLM's _safe wrapper
        return None, repr(exc)
    return out, None


def _chain(get_mapper, steps: list[dict], pages: list[dict]) -> dict:
    funcs = [(step["func"], _mapper(get_mapper, step)) for step in steps]
    result = {}
    for original in pages:
        page = json.loads(json.dumps(original))  # DCLM mutates pages in place
        verdict = {"kept": True, "step": None, "error": None}
        for number, (name, func) in enumerate(funcs, start=1):
            out, error = _apply(func, page)
            if error or not out:
                verdict = {"kept": False, "step": f"{number:02d}_{name}", "error": error}
                break
            page = out[0]
        if verdict["kept"]:
            verdict["text"] = page["text"]
        result[original["id"]] = verdict
    return result


def _single(get_mapper, step: dict, pages: list[dict]) -> dict:
    func = _mapper(get_mapper, step)
    result = {}
    for original in pages:
        out, error = _apply(func, json.loads(json.dumps(original)))
        result[original["id"]] = None if (error or not out) else out[0]["text"]
    return result


def main(job_path: str, out_path: str) -> None:
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    get_mapper, lid = _import_dclm()
    if job.get("lid_model"):
        # DCLM looks for lid.176.bin inside its checkout; both sides must
        # use the same model file, so point it at the one we were given.
        import fasttext
        lid.load_fasttext_model = lambda: fasttext.load_model(job["lid_model"])
    out = {"chain": _chain(get_mapper, job["chain"], job["pages"]) if job.get("chain") else {},
           "single": {key: _single(get_mapper, step, job["pages"])
                      for key, step in job.get("single", {}).items()}}
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
