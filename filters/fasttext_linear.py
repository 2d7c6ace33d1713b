"""fastText's supervised prediction, recomputed exactly with numpy for whole batches.

A supervised fastText model (Joulin et al. 2017, "Bag of Tricks") is linear
up to its last step: a document's hidden vector is the mean of the input rows
of its words, of its word n-gram buckets and of the end-of-line token
``</s>``; the label scores are the output matrix times that mean; softmax
(or, with ``loss=ova``, a sigmoid per label) gives probabilities. Because the
mean is linear, each input row can be multiplied by the output matrix once,
at load time: scoring a document then needs one number per token instead of
a ``dim``-wide row, and a whole batch is scored with a few numpy calls.

Profiling showed fastText's ``predict`` to be memory-bound (about 0.7 µs per
token here: its 2M-bucket n-gram matrix does not fit any cache), and DCLM
(Li et al. 2024) scores every page of its pool with such a model, so this is
where scoring time goes. The table of per-row scores is 2 numbers per row.

Exactness: tokens, word ids and n-gram buckets follow fastText 0.9's
``Dictionary::getLine`` (facebookresearch/fastText ``src/dictionary.cc``):

* a word's hash is 32-bit FNV-1a over its UTF-8 bytes, each byte
  sign-extended first (fastText's signed-char quirk);
* unknown words add no row of their own but their hash still enters the
  n-grams; ``</s>`` ends every line; n-gram ``i..j`` is bucket
  ``(h_i * 116049371 + h_{i+1}) * 116049371 + ... mod bucket`` computed on
  sign-extended 64-bit hashes; a quantized model maps buckets through its
  pruning table and skips the ones it dropped.

Words are found by a 64-bit key (the fastText hash plus a second 32-bit
hash), so a wrong match needs both hashes to collide at once. The results
agree with ``predict`` to float32 rounding (about 1e-6); ``selfcheck``
verifies this on probe texts at load time and the caller falls back to
``predict`` if it ever does not. Models with subword n-grams (``maxn > 0``),
hierarchical softmax or negative-sampling losses, or a quantized output
matrix, are not handled here and always use ``predict``.
"""
from __future__ import annotations

import contextlib
import io
from typing import Optional, Sequence

import numpy as np

from filters.fasttext_model_file import ModelFileError, read_model_facts
from filters.fasttext_text import TokenBatch, tokenize_batch

FNV_BASIS, FNV_PRIME = 2166136261, 16777619
# A second, differently seeded multiplicative hash: only used to confirm
# that a token really is the vocabulary word its fastText hash points to.
CHECK_BASIS, CHECK_PRIME = 0x9E3779B9, 0x5BD1E995
NGRAM_MULTIPLIER = 116049371
EOS = "</s>"
SELFCHECK_TOLERANCE = 1e-4
# Below this many unfinished tokens, finishing them in Python is cheaper than
# another round of numpy calls (a 5,000-character token would cost 5,000 rounds).
_PYTHON_TAIL = 4
_LOW32 = 0xFFFFFFFF


def _python_fnv(data: bytes, h: int, prime: int) -> int:
    for byte in data:
        h = ((h ^ (byte | 0xFFFFFF00 if byte >= 0x80 else byte)) * prime) & _LOW32
    return h


def _longest_first(lengths: np.ndarray) -> np.ndarray:
    if int(lengths.max()) < 0xFFFF:
        # numpy sorts 16-bit keys with a radix sort, several times faster.
        return np.argsort((0xFFFF - lengths).astype(np.uint16), kind="stable")
    return np.argsort(-lengths, kind="stable")


def token_hashes(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """fastText's 32-bit hash of each token, and a 64-bit key for vocabulary look-ups.

    Token ``i`` is ``data[starts[i]:starts[i] + lengths[i]]`` (UTF-8 bytes).
    The loop runs over byte positions, all tokens at once, longest tokens
    first so that the tokens still running are always a prefix.
    """
    n = len(starts)
    h = np.full(n, FNV_BASIS, dtype=np.uint32)
    g = np.full(n, CHECK_BASIS, dtype=np.uint32)
    if n == 0:
        return h, np.zeros(0, dtype=np.uint64)
    # fastText XORs uint32_t(int8_t(byte)): reading the bytes as int8 and widening
    # them sign-extends exactly that way, in one pass.
    signed = data.view(np.int8).astype(np.int32).view(np.uint32)
    order = _longest_first(lengths)
    s, lens = starts[order], lengths[order]
    hs, gs = h[order], g[order]
    prime, check_prime = np.uint32(FNV_PRIME), np.uint32(CHECK_PRIME)
    running = np.searchsorted(-lens, -np.arange(int(lens[0])), side="left")
    for k, m in enumerate(running):
        if m <= _PYTHON_TAIL:
            for i in range(m):
                rest = data[s[i] + k: s[i] + lens[i]].tobytes()
                hs[i] = _python_fnv(rest, int(hs[i]), FNV_PRIME)
                gs[i] = _python_fnv(rest, int(gs[i]), CHECK_PRIME)
            break
        byte = signed[s[:m] + k]
        hv, gv = hs[:m], gs[:m]
        hv ^= byte
        hv *= prime
        gv ^= byte
        gv *= check_prime
    h[order], g[order] = hs, gs
    return h, (h.astype(np.uint64) << np.uint64(32)) | g.astype(np.uint64)


class _VocabularyTable:
    """Open-addressing hash table from 64-bit token key to word id, probed with numpy."""

    def __init__(self, keys: np.ndarray):
        size = 1 << max(4, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        self.mask = size - 1
        table_keys, table_ids = [0] * size, [-1] * size
        self.max_probe = 0
        for word_id, key in enumerate(keys.tolist()):   # plain lists: numpy scalars are slow here
            slot, probe = key & self.mask, 0
            while table_ids[slot] >= 0:
                if table_keys[slot] == key:
                    raise ValueError("two vocabulary words share a 64-bit key")
                slot, probe = (slot + 1) & self.mask, probe + 1
            table_keys[slot], table_ids[slot] = key, word_id
            self.max_probe = max(self.max_probe, probe)
        self.keys = np.array(table_keys, dtype=np.uint64)
        self.ids = np.array(table_ids, dtype=np.int32)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Word id of each key, -1 when it is not in the vocabulary."""
        slots = (keys & np.uint64(self.mask)).astype(np.int64)
        found = self.ids[slots].astype(np.int64)
        # Most keys end at the first probe: a match, or an empty slot (-1 already).
        pending = np.flatnonzero((found >= 0) & (self.keys[slots] != keys))
        found[pending] = -1
        for probe in range(1, self.max_probe + 1):
            if not len(pending):
                break
            step = (slots[pending] + probe) & self.mask
            ids = self.ids[step]
            hit = (ids >= 0) & (self.keys[step] == keys[pending])
            found[pending[hit]] = ids[hit]
            pending = pending[~hit & (ids >= 0)]          # an empty slot ends the search
        return found


class LinearFastText:
    """Batch scorer for one label of a linear supervised fastText model.

    Build it with ``LinearFastText.build(model, path, label)``, which returns
    None when the model is of a kind this class does not reproduce.
    """

    def __init__(self, words: Sequence[str], row_scores: np.ndarray, softmax: bool,
                 word_ngrams: int, bucket: int, nwords: int, bucket_rows: Optional[np.ndarray]):
        self.row_scores = row_scores          # (rows, k) float32
        self.softmax = softmax                # else one sigmoid column (2-label softmax or ova)
        self.word_ngrams = word_ngrams
        self.bucket = bucket
        self.nwords = nwords
        self.bucket_rows = bucket_rows        # bucket -> row, -1 if pruned; None: nwords + bucket
        encoded = [w.encode("utf-8") for w in words]
        lengths = np.fromiter((len(w) for w in encoded), dtype=np.int64, count=len(encoded))
        _, keys = token_hashes(np.frombuffer(b"".join(encoded), dtype=np.uint8),
                               np.cumsum(lengths) - lengths, lengths)
        self.vocabulary = _VocabularyTable(keys)
        eos = EOS.encode("utf-8")
        eos_hash, eos_key = token_hashes(np.frombuffer(eos, dtype=np.uint8), np.array([0]),
                                         np.array([len(eos)]))
        self.eos_hash = eos_hash[0]
        self.eos_id = int(self.vocabulary.lookup(eos_key)[0])

    @classmethod
    def build(cls, model, path: str, label: str) -> Optional["LinearFastText"]:
        args = model.f.getArgs()
        loss = str(args.loss).rsplit(".", 1)[-1]
        if args.maxn > 0 or loss not in ("softmax", "ova"):
            return None
        try:
            words = model.get_words(on_unicode_error="strict")
            facts = read_model_facts(path)
        except (UnicodeDecodeError, ModelFileError, OSError):
            return None
        labels = list(model.get_labels())
        target = labels.index(label)
        quantized = model.f.isQuant()
        if quantized:
            if facts.output_matrix is None:
                return None
            output = facts.output_matrix.astype(np.float64)
            rows = facts.nwords + (facts.bucket if facts.prune_size < 0 else max(facts.prune_size, 0))
            if rows > 1_000_000:              # one Python call per row: slower to load than to skip
                return None
            vec = np.empty((rows, args.dim), dtype=np.float32)
            for row in range(rows):
                vec[row] = model.get_input_vector(row)
            inputs = vec
        else:
            output = model.get_output_matrix().astype(np.float64)
            inputs = np.asarray(model.f.getInputMatrix())   # a view, not a copy
        if loss == "ova":
            weights, softmax = output[[target]], False
        elif len(labels) == 2:
            # Two-label softmax: P(target) = sigmoid(score_target - score_other).
            weights, softmax = output[[target]] - output[[1 - target]], False
        else:
            order = [target] + [i for i in range(len(labels)) if i != target]
            weights, softmax = output[order], True
        row_scores = np.empty((inputs.shape[0], weights.shape[0]), dtype=np.float32)
        weights = weights.T.astype(np.float32)
        for at in range(0, inputs.shape[0], 65536):      # chunks: never copy the whole matrix
            row_scores[at: at + 65536] = inputs[at: at + 65536] @ weights
        bucket_rows = None
        if facts.prune_size >= 0:
            bucket_rows = np.full(facts.bucket, -1, dtype=np.int64)
            bucket_rows[facts.prune_buckets] = facts.nwords + facts.prune_rows
        try:
            return cls(words, row_scores, softmax, facts.word_ngrams, facts.bucket,
                       facts.nwords, bucket_rows)
        except ValueError:
            return None

    def probabilities(self, batch: TokenBatch) -> np.ndarray:
        """P(label) for each document of the batch (0.0 for a document with no known feature)."""
        hashes, keys = token_hashes(*batch.utf8())
        ids = self.vocabulary.lookup(keys)
        docs = batch.doc_of_token
        # Every line ends with </s>: append it to each document's tokens.
        ends = np.cumsum(np.bincount(docs, minlength=batch.n_docs))
        hashes = np.insert(hashes, ends, self.eos_hash)
        ids = np.insert(ids, ends, self.eos_id)
        docs = np.insert(docs, ends, np.arange(batch.n_docs))
        known = ids >= 0
        rows = [ids[known]]
        row_docs = [docs[known]]
        signed = hashes.view(np.int32).astype(np.int64).view(np.uint64)
        acc = signed
        for k in range(1, self.word_ngrams):
            acc = acc[:-1] * np.uint64(NGRAM_MULTIPLIER) + signed[k:]
            same_doc = docs[:-k] == docs[k:]
            buckets = (acc[same_doc] % np.uint64(self.bucket)).astype(np.int64)
            ngram_docs = docs[:-k][same_doc]
            if self.bucket_rows is None:
                rows.append(self.nwords + buckets)
                row_docs.append(ngram_docs)
            else:
                mapped = self.bucket_rows[buckets]
                rows.append(mapped[mapped >= 0])
                row_docs.append(ngram_docs[mapped >= 0])
        rows_all = np.concatenate(rows)
        docs_all = np.concatenate(row_docs)
        counts = np.bincount(docs_all, minlength=batch.n_docs)
        scores = self.row_scores[rows_all]
        means = np.stack([np.bincount(docs_all, weights=scores[:, j], minlength=batch.n_docs)
                          for j in range(scores.shape[1])], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means /= counts[:, None]
        if self.softmax:
            shifted = np.exp(means - means.max(axis=1, keepdims=True))
            probs = shifted[:, 0] / shifted.sum(axis=1)
        else:
            probs = 1.0 / (1.0 + np.exp(-means[:, 0]))
        return np.where(counts > 0, probs, 0.0)


def selfcheck(scorer: LinearFastText, predict_probs, words: Sequence[str], seed: int = 0) -> float:
    """Largest difference between this scorer and fastText's ``predict`` on probe texts.

    ``predict_probs(texts)`` must return fastText's probability for the same
    label on already-normalized texts. Probes mix vocabulary words (seeded
    draw), unknown and non-ASCII words, and an empty text.
    """
    rng = np.random.default_rng(seed)
    pool = list(words[:5000]) or ["x"]
    probes = [""]
    for size in (1, 2, 7, 40, 300):
        picked = [pool[i] for i in rng.integers(0, len(pool), size)]
        probes.append(" ".join(picked))
        probes.append(" ".join(picked + ["zqxj", "überprüfung", "数据", "😀"]))
    batch = tokenize_batch(probes)
    ours = scorer.probabilities(batch)
    with contextlib.redirect_stderr(io.StringIO()):
        theirs = np.asarray(predict_probs(batch.texts()), dtype=np.float64)
    return float(np.max(np.abs(ours - theirs)))
