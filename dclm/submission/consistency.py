"""Cross-file checks of a submission whose submission.json passed the schema.

Every claim in submission.json is checked against the file that backs it, and
those files against each other, so that the chain shards -> tokens -> run ->
evaluation holds:

* model: a fixed scale with its exact hyper-parameters (else "not comparable",
  naming the fields), and run_config.json agrees, complete, whole budget;
* tokens: tokenize_manifest.json is the one the run hashed, made for this
  scale from exactly these shards (names and sha256);
* shards: inline ones are re-tokenized with the scale's tokenizer and their
  rows, documents and tokens must match the manifest and submission.json;
  shards.json (by URL) must list the same names, sizes and hashes;
* curation: recipe.yaml has the claimed sha256, which the ledgers and
  stats.json record; each ledger's output count is its shard's row count;
* evaluation: eval.json's aggregates are recomputed from its per-task
  scores (``claims``), it evaluated this run, and the claimed scores are those.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Optional

import yaml

from dclm.io import bounded_json, bounded_yaml
from dclm.io.digests import file_sha256
from dclm.submission import layout
from dclm.submission.claims import eval_report_problems, fixed_scales, run_problems, same_value, scale_problems
from dclm.submission.safe_archive import Limits, path_problem

_MISSING = object()


def _mapping(value: Any) -> dict:
    """``value`` when it is a JSON object, else {}: a wrong type is reported where it matters, never a crash."""
    return value if isinstance(value, dict) else {}


class Checker:
    def __init__(self, root: Path, doc: dict, files: set[str], digests: dict[str, str],
                 known_scales: Optional[dict] = None, limits: Limits = Limits()):
        self.root, self.doc, self.files, self.digests = root, doc, files, digests
        self.limits = limits
        self.dataset, self.model, self.evaluation = doc["dataset"], doc["model"], doc["evaluation"]
        self.known = fixed_scales(known_scales)
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.scores: Optional[dict] = None
        self.reference = None            # the fixed Scale the model claims, when it is one

    # ------------------------------------------------------------ helpers

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def load_json(self, rel: str) -> Any:
        if rel not in self.files:
            return _MISSING              # reported by the layout check
        try:
            return bounded_json.load_file(self.root / rel, self.limits.max_metadata_bytes)
        except bounded_json.JsonLimitError as exc:
            self.problem(f"{rel}: {exc}")
            return _MISSING
        except (ValueError, UnicodeDecodeError) as exc:
            self.problem(f"{rel}: not valid JSON ({exc})")
            return _MISSING

    def sha256(self, rel: str) -> str:
        return self.digests.get(rel) or file_sha256(self.root / rel)

    def agree(self, rel: str, key: str, found: Any, claim: str, claimed: Any) -> None:
        if found != claimed or isinstance(found, bool) != isinstance(claimed, bool):
            self.problem(f"{rel}: {key} is {found!r}, but {layout.SUBMISSION} {claim} claims {claimed!r}")

    # ------------------------------------------------------------ checks

    def run(self) -> None:
        self.check_scale()
        self.check_run_config()
        sources = self.check_tokenize_manifest()
        shards = self.shard_listing()
        if shards is not None:
            self.check_dataset_identity(shards, sources)
        rows = self.recount(shards, sources) if shards is not None else {}
        self.check_curation(shards, rows)
        self.check_evaluation()
        self.check_identifiers()

    def check_scale(self) -> None:
        hp = self.model["hyperparameters"]
        for message in scale_problems(self.model["scale"], self.model["scale_hash"], hp, self.known):
            self.problem(f"{layout.SUBMISSION}: model: {message}")
        if hp.get("seed") != self.model["seed"]:
            self.problem(f"{layout.SUBMISSION}: model.hyperparameters.seed {hp.get('seed')!r} differs from "
                         f"model.seed {self.model['seed']!r}")
        self.reference = self.known.get(self.model["scale"])

    def check_run_config(self) -> None:
        config = self.load_json(layout.RUN_CONFIG)
        if config is _MISSING:
            return
        if not isinstance(config, dict):
            return self.problem(f"{layout.RUN_CONFIG}: not a training run record")
        for message in run_problems(config, self.known):
            self.problem(f"{layout.RUN_CONFIG}: {message}")
        for key, claim in (("scale", "scale"), ("scale_hash", "scale_hash"), ("seed", "seed"),
                           ("parameters", "parameters"), ("data_manifest_hash", "data_manifest_hash"),
                           ("data_sha256", "data_sha256"), ("tokens_trained", "tokens_trained"),
                           ("steps_done", "steps")):
            self.agree(layout.RUN_CONFIG, key, config.get(key), f"model.{claim}", self.model[claim])
        if layout.TOKENIZE_MANIFEST in self.files and \
                self.sha256(layout.TOKENIZE_MANIFEST) != config.get("data_manifest_hash"):
            self.problem(f"{layout.TOKENIZE_MANIFEST}: its sha256 is not the run's data_manifest_hash: the model "
                         "was not trained on these tokens")
        self.check_metrics(config.get("steps_done"))

    def check_metrics(self, steps: Any) -> None:
        if layout.METRICS not in self.files:
            return
        last = None
        try:
            text = bounded_json.read_text(self.root / layout.METRICS, self.limits.max_metadata_bytes)
        except bounded_json.JsonLimitError as exc:
            return self.problem(f"{layout.METRICS}: {exc}")
        except UnicodeDecodeError:
            return self.problem(f"{layout.METRICS}: not UTF-8 text")
        for number, line in enumerate(text.splitlines(), 1):
            try:
                last = bounded_json.loads(line)["step"] if line.strip() else last
            except bounded_json.JsonLimitError as exc:
                return self.problem(f"{layout.METRICS} line {number}: {exc}")
            except (ValueError, KeyError, TypeError):
                return self.problem(f"{layout.METRICS} line {number}: not a JSON record with a step")
        if last != steps:
            self.problem(f"{layout.METRICS}: last step is {last!r}, the run records {steps!r} steps")

    def check_tokenize_manifest(self) -> dict[str, dict]:
        """The manifest's sources by shard name ({} when unusable)."""
        manifest = self.load_json(layout.TOKENIZE_MANIFEST)
        if manifest is _MISSING:
            return {}
        rel = layout.TOKENIZE_MANIFEST
        if not isinstance(manifest, dict) or not isinstance(manifest.get("sources"), list):
            self.problem(f"{rel}: not a tokenize manifest (no sources list)")
            return {}
        self.agree(rel, "scale_hash", manifest.get("scale_hash"), "model.scale_hash", self.model["scale_hash"])
        self.agree(rel, "data_sha256", manifest.get("data_sha256"), "model.data_sha256", self.model["data_sha256"])
        self.agree(rel, "tokenizer", manifest.get("tokenizer"), "dataset.tokenizer", self.dataset["tokenizer"])
        self.agree(rel, "tokenizer_sha256", manifest.get("tokenizer_sha256"), "dataset.tokenizer_sha256",
                   self.dataset["tokenizer_sha256"])
        sources: dict[str, dict] = {}
        for index, source in enumerate(manifest["sources"]):
            fields = ("name", "sha256", "rows", "documents", "tokens")
            if not isinstance(source, dict) or not all(k in source for k in fields) or \
                    not all(isinstance(source[k], str) for k in fields[:2]) or \
                    not all(isinstance(source[k], int) for k in fields[2:]):
                self.problem(f"{rel}: sources[{index}]: needs name, sha256 and integer rows, documents, tokens")
                return {}
            sources[source["name"]] = source
        for key, claim in (("tokens", "num_tokens"), ("documents", "num_documents")):
            total = sum(s[key] for s in sources.values())
            if total != self.dataset[claim]:
                self.problem(f"{rel}: its sources hold {total} {key}, but {layout.SUBMISSION} dataset.{claim} "
                             f"claims {self.dataset[claim]}")
        return sources

    def shard_listing(self) -> Optional[dict[str, dict]]:
        """name -> {sha256, bytes} of the dataset's shards (inline files or shards.json), None when unusable."""
        if self.dataset["shard_storage"] == layout.INLINE:
            prefix = layout.SHARDS_DIR + "/"
            return {rel[len(prefix):]: {"sha256": self.sha256(rel), "bytes": (self.root / rel).stat().st_size}
                    for rel in sorted(self.files) if rel.startswith(prefix) and rel.endswith(".parquet")}
        self.notes.append("shards are referenced by URL (shards.json): documents and tokens were not recounted")
        listing = self.load_json(layout.SHARDS_MANIFEST)
        if listing is _MISSING:
            return None
        rel, url = layout.SHARDS_MANIFEST, self.dataset["dataset_url"]
        if self.dataset["manifest_url"] != rel or not isinstance(url, str):
            self.problem(f"{layout.SUBMISSION}: dataset: shard_storage '{layout.BY_URL}' needs manifest_url "
                         f"'{rel}' and a dataset_url")
        entries = listing.get("shards") if isinstance(listing, dict) else None
        if not isinstance(entries, list) or not entries:
            self.problem(f"{rel}: expected {{\"shards\": [{{name, url, bytes, sha256}}, ...]}}")
            return None
        shards: dict[str, dict] = {}
        for index, entry in enumerate(entries):
            ok = isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("name", "url", "sha256")) \
                and all(isinstance(entry.get(k), int) for k in ("bytes", "documents", "tokens")) \
                and len(entry["sha256"]) == 64
            if not ok:
                self.problem(f"{rel}: shards[{index}]: needs name, url, sha256 and integer bytes, documents, tokens")
                continue
            name = entry["name"]
            if "/" in name or path_problem(name) or not name.endswith(".parquet"):
                self.problem(f"{rel}: shards[{index}]: {name!r} is not a plain .parquet file name")
            elif name in shards:
                self.problem(f"{rel}: shards[{index}]: {name} is listed twice")
            if isinstance(url, str) and entry["url"] != url + name:
                self.problem(f"{rel}: shards[{index}]: url {entry['url']!r} is not dataset_url + name")
            shards[name] = {key: entry[key] for key in ("sha256", "bytes", "documents", "tokens")}
        return shards

    def check_dataset_identity(self, shards: dict[str, dict], sources: dict[str, dict]) -> None:
        ours = {(name, s["sha256"]) for name, s in shards.items()}
        trained = {(name, s["sha256"]) for name, s in sources.items()}
        if sources and ours != trained:
            differing = sorted({n for n, _ in ours ^ trained})
            self.problem(f"{layout.TOKENIZE_MANIFEST}: the model was trained on tokens of other shards than the "
                         f"submitted ones (differing: {', '.join(differing)})")
        for key, value in (("num_shards", len(shards)), ("size", sum(s["bytes"] for s in shards.values())),
                           ("data_sha256", layout.shard_listing_sha256([(n, s["sha256"]) for n, s in shards.items()]))):
            if self.dataset[key] != value:
                self.problem(f"{layout.SUBMISSION}: dataset.{key} claims {self.dataset[key]!r}, the shards give "
                             f"{value!r}")
        for name, shard in sorted(shards.items()):
            for key in ("documents", "tokens"):     # only shards.json lists them
                if key in shard and name in sources and shard[key] != sources[name][key]:
                    self.problem(f"{layout.SHARDS_MANIFEST}: {name}: {key} {shard[key]}, "
                                 f"{layout.TOKENIZE_MANIFEST} counts {sources[name][key]}")
        if sorted(s["shard"] for s in self.dataset["sources"]) != sorted(shards):
            self.problem(f"{layout.SUBMISSION}: dataset.sources does not name one source per shard")

    def recount(self, shards: dict[str, dict], sources: dict[str, dict]) -> dict[str, int]:
        """Rows per shard: recounted from inline shards (tokens and documents too), else the manifest's."""
        rows = {name: s["rows"] for name, s in sources.items()}
        if self.dataset["shard_storage"] != layout.INLINE or self.reference is None:
            return rows
        from dclm.errors import UsageError
        from dclm.submission.shard_limits import ShardBudget, shard_problem
        from dclm.training.tokenize_data import TextBudgetExceeded, count_shard_tokens
        from dclm.training.tokenizer import eos_id, load_tokenizer

        try:
            tokenizer = load_tokenizer(self.reference)
        except UsageError as exc:
            self.problem(f"{layout.SHARDS_DIR}/: cannot recount tokens: {exc}")
            return rows
        totals = {"documents": 0, "tokens": 0}
        for name in sorted(shards):
            rel = layout.shard_path(name)
            path = self.root / rel
            refusal = shard_problem(path)
            if refusal:
                self.problem(f"{rel}: {refusal}")
                continue
            budget = ShardBudget(path.stat().st_size).text_bytes
            try:
                counted = count_shard_tokens(str(path), tokenizer, eos_id(tokenizer), text_budget=budget)
            except TextBudgetExceeded as exc:
                self.problem(f"{rel}: holds {exc}, more than a {shards[name]['bytes']:,}-byte shard may "
                             f"({budget:,}); refused as a decompression bomb")
                continue
            except Exception as exc:    # pyarrow raises many types for a corrupt file; all mean "unreadable"
                self.problem(f"{rel}: not a readable Parquet shard with a text column ({type(exc).__name__}: {exc})")
                continue
            rows[name] = counted["rows"]
            for key in totals:
                totals[key] += counted[key]
            claimed = sources.get(name)
            for key in ("rows", "documents", "tokens"):
                if claimed is not None and claimed[key] != counted[key]:
                    self.problem(f"{rel}: recounted {counted[key]} {key}, {layout.TOKENIZE_MANIFEST} claims "
                                 f"{claimed[key]}")
        for key, claim in (("documents", "num_documents"), ("tokens", "num_tokens")):
            if totals[key] != self.dataset[claim]:
                self.problem(f"{layout.SUBMISSION}: dataset.{claim} claims {self.dataset[claim]}, the inline shards "
                             f"hold {totals[key]} (recounted with {self.reference.tokenizer})")
        return rows

    def check_curation(self, shards: Optional[dict[str, dict]], rows: dict[str, int]) -> None:
        recipe_digest = self.dataset["recipe"]["sha256"]
        if layout.RECIPE in self.files:
            data = (self.root / layout.RECIPE).read_bytes()
            if hashlib.sha256(data).hexdigest() != recipe_digest:
                self.problem(f"{layout.RECIPE}: its sha256 is not dataset.recipe.sha256 in {layout.SUBMISSION}")
            try:
                bounded_yaml.safe_load(data)
            except bounded_yaml.YamlLimitError as exc:
                self.problem(f"{layout.RECIPE}: {exc}")
            except yaml.YAMLError as exc:
                self.problem(f"{layout.RECIPE}: not valid YAML ({exc})")
        stats = self.load_json(layout.STATS)
        if stats is not _MISSING and not isinstance(_mapping(stats).get("documents_out"), int):
            self.problem(f"{layout.STATS}: not the statistics of a curation run (no documents_out count)")
        elif stats is not _MISSING:
            recorded = _mapping(stats.get("params")).get("recipe_sha256")
            if recorded is not None and recorded != recipe_digest:
                self.problem(f"{layout.STATS}: records recipe sha256 {recorded}, not the submitted recipe's")
            if rows and stats["documents_out"] != sum(rows.values()):
                self.problem(f"{layout.STATS}: documents_out is {stats['documents_out']}, the shards hold "
                             f"{sum(rows.values())} rows")
        names = set(shards or ())
        for rel in sorted(f for f in self.files if f.startswith(layout.LEDGER_DIR + "/")):
            stem = rel[len(layout.LEDGER_DIR) + 1: -len(".json")]
            if shards is not None and f"{stem}.parquet" not in names:
                self.problem(f"{rel}: a ledger for no submitted shard")
                continue
            ledger = self.load_json(rel)
            if ledger is _MISSING:
                continue
            if not isinstance(ledger, dict):
                self.problem(f"{rel}: not a shard ledger (a JSON object)")
                continue
            digest = _mapping(ledger.get("details")).get("recipe_sha256")
            if digest is not None and digest != recipe_digest:
                self.problem(f"{rel}: records recipe sha256 {digest}, not the submitted recipe's")
            expected = rows.get(f"{stem}.parquet")
            if expected is not None and ledger.get("documents_out") != expected:
                self.problem(f"{rel}: documents_out is {ledger.get('documents_out')!r}, its shard holds "
                             f"{expected} rows")
        for name in sorted(names):
            if layout.ledger_path(name) not in self.files:
                self.problem(f"{layout.ledger_path(name)}: missing (every shard needs its ledger)")

    def check_evaluation(self) -> None:
        report = self.load_json(layout.EVAL)
        if report is _MISSING:
            return
        scores, problems = eval_report_problems(report, where=layout.EVAL)
        self.problems.extend(problems)
        if scores is None:
            return
        self.scores = scores
        identity = _mapping(report.get("model_identity"))
        for key, claim in (("scale_hash", "scale_hash"), ("seed", "seed"), ("data_manifest_hash", "data_manifest_hash"),
                           ("weights_sha256", "weights_sha256"), ("parameters", "parameters"), ("steps_done", "steps")):
            self.agree(layout.EVAL, f"model_identity.{key}", identity.get(key), f"model.{claim}", self.model[claim])
        for key in ("uuid", "task_set", "Core_tasks", "bits_per_byte_set"):
            if self.evaluation[key] != scores[key]:
                self.problem(f"{layout.SUBMISSION}: evaluation.{key} claims {self.evaluation[key]!r}, but "
                             f"{layout.EVAL} gives {scores[key]!r}")
        for key in ("Core", "Extended", "bits_per_byte"):
            if not same_value(self.evaluation[key], scores[key]):
                self.problem(f"{layout.SUBMISSION}: evaluation.{key} claims {self.evaluation[key]!r}, but "
                             f"{layout.EVAL}'s per-task scores give {scores[key]!r}")

    def check_identifiers(self) -> None:
        doc, dataset, model = self.doc, self.dataset, self.model
        expected = {
            "dataset.uuid": (dataset["uuid"], layout.derived_uuid("dataset", dataset["data_sha256"])),
            "model.uuid": (model["uuid"], layout.derived_uuid("model", model["weights_sha256"],
                                                             model["data_manifest_hash"])),
            "model.dataset_uuid": (model["dataset_uuid"], dataset["uuid"]),
            "model.dataset_name": (model["dataset_name"], dataset["name"]),
            "uuid": (doc["uuid"], layout.derived_uuid("submission", doc["name"], dataset["uuid"], model["uuid"],
                                                      str(self.evaluation["uuid"]))),
        }
        for key, (found, wanted) in expected.items():
            if found != wanted:
                self.problem(f"{layout.SUBMISSION}: {key} is {found!r}; it must be {wanted!r} (derived from content)")
        if self.reference is not None and dataset["tokenizer_sha256"] != self.reference.tokenizer_sha256:
            self.problem(f"{layout.SUBMISSION}: dataset.tokenizer_sha256 is not scale {model['scale']!r}'s tokenizer")
