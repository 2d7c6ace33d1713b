"""Checking a fastText model file, and reading what the Python bindings do not expose.

fastText's loader trusts its input: a truncated file can make it grow a
string until memory runs out (seen: ``std::bad_alloc`` after minutes), so
every model is walked here first, with bounds checks, and a file that does
not end exactly where its last matrix ends is refused with a clear message.

The walk also yields what ``filters.fasttext_linear`` needs and the
``fasttext`` module does not give: a quantized model (``.ftz``) keeps only
some word-n-gram buckets, and the map from bucket to kept row ("pruneidx")
lives in the file's dictionary; the output matrix of a quantized model is
only reachable in the file.

The layout is that of fastText 0.9's ``FastText::saveModel`` (Joulin et al.
2017; facebookresearch/fastText ``src/fasttext.cc``, ``dictionary.cc``,
``args.cc``, ``densematrix.cc``, ``quantmatrix.cc``,
``productquantizer.cc``): a magic number and version, the training
arguments (12 int32 and one double), the dictionary (sizes, then each entry
as a NUL-terminated word, an int64 count and an int8 type, then the
pruneidx pairs), a quantization flag and the input matrix, a flag and the
output matrix. A dense matrix is int64 rows, int64 columns and float32
values; a quantized one is its norm flag, sizes, codes, codebook (and norm
codes and their codebook).
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from typing import Optional

import numpy as np

FASTTEXT_MAGIC = 793712314
SUPPORTED_VERSIONS = (12,)
_ARGS = struct.Struct("<12id")
_DICT_HEAD = struct.Struct("<iiiqq")
_MATRIX_HEAD = struct.Struct("<qq")


class ModelFileError(ValueError):
    """The file is not a fastText model this reader understands."""


@dataclass(frozen=True)
class ModelFileFacts:
    version: int
    dim: int
    word_ngrams: int
    bucket: int
    nwords: int
    nlabels: int
    prune_size: int                  # -1: never pruned; 0: no n-gram rows; >0: pairs below
    prune_buckets: np.ndarray        # bucket ids that kept a row ...
    prune_rows: np.ndarray           # ... and the index of that row among the n-gram rows
    output_matrix: Optional[np.ndarray]   # (nlabels, dim) when stored unquantized


def is_fasttext_file(path: str) -> bool:
    """True when the file starts with fastText's magic number."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<i", head)[0] == FASTTEXT_MAGIC


class _Reader:
    """Bounds-checked reads from the mapped file: a short file raises instead of reading past its end."""

    def __init__(self, data, path: str):
        self.data, self.path, self.at = data, path, 0

    def take(self, size: int) -> int:
        if size < 0 or self.at + size > len(self.data):
            raise ModelFileError(f"{self.path}: truncated or corrupt fastText model "
                                 f"(needs {size} bytes at offset {self.at}, file has {len(self.data)})")
        start, self.at = self.at, self.at + size
        return start

    def unpack(self, fmt: struct.Struct) -> tuple:
        return fmt.unpack_from(self.data, self.take(fmt.size))


_BOOL, _I32, _I64 = struct.Struct("<?"), struct.Struct("<i"), struct.Struct("<q")
_PQ_HEAD = struct.Struct("<iiii")      # dim, nsubq, dsub, lastdsub
_PQ_CENTROIDS = 256                    # 8-bit codes


def _skip_matrix(reader: _Reader, quantized: bool) -> tuple[int, int, int]:
    """Step over a saved matrix; returns (rows, columns, offset of dense values or -1)."""
    if quantized:
        (qnorm,) = reader.unpack(_BOOL)
        rows, cols = reader.unpack(_MATRIX_HEAD)
        (codesize,) = reader.unpack(_I32)
        reader.take(codesize)
        for _ in range(2 if qnorm else 1):            # the vector codebook, then the norms'
            dim = reader.unpack(_PQ_HEAD)[0]
            reader.take(4 * dim * _PQ_CENTROIDS)
            if qnorm and _ == 0:
                reader.take(rows)                     # one norm code per row
        return rows, cols, -1
    rows, cols = reader.unpack(_MATRIX_HEAD)
    if rows < 0 or cols < 0:
        raise ModelFileError(f"{reader.path}: corrupt matrix size {rows} x {cols}")
    return rows, cols, reader.take(4 * rows * cols)


def read_model_facts(path: str) -> ModelFileFacts:
    """Parse and check the whole file; raises ModelFileError unless it is a complete model.

    fastText's own loader trusts the file: a truncated one can make it
    allocate until memory runs out, so callers check here first.
    """
    with open(path, "rb") as fh:
        # Memory-mapped: a 2M-bucket model is ~800 MB and its matrices are only stepped over.
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:               # an empty file cannot be mapped
            data = b""
    reader = _Reader(data, path)
    if len(data) < 8 or struct.unpack_from("<i", data, 0)[0] != FASTTEXT_MAGIC:
        raise ModelFileError(f"{path}: not a fastText model (bad magic number)")
    _, version = reader.unpack(struct.Struct("<ii"))
    if version not in SUPPORTED_VERSIONS:
        raise ModelFileError(f"{path}: fastText file version {version} is not supported "
                             f"(fastText 0.9 writes version {SUPPORTED_VERSIONS[-1]})")
    (dim, _ws, _epoch, _min_count, _neg, word_ngrams, _loss, _model, bucket,
     _minn, _maxn, _lr_update, _t) = reader.unpack(_ARGS)
    size, nwords, nlabels, _ntokens, prune_size = reader.unpack(_DICT_HEAD)
    if not 0 <= nwords <= size or nlabels < 0 or size > len(data):
        raise ModelFileError(f"{path}: corrupt dictionary header")
    for _ in range(size):
        end = data.find(b"\0", reader.at)
        if end < 0:
            raise ModelFileError(f"{path}: truncated or corrupt fastText model (dictionary)")
        reader.at = end + 1
        reader.take(8 + 1)                # int64 count, int8 type
    pairs_at = reader.take(8 * max(prune_size, 0))
    pairs = np.frombuffer(data, dtype="<i4", count=2 * max(prune_size, 0), offset=pairs_at).reshape(-1, 2)
    (quantized_input,) = reader.unpack(_BOOL)
    _skip_matrix(reader, quantized_input)
    (quantized_output,) = reader.unpack(_BOOL)
    rows, cols, values_at = _skip_matrix(reader, quantized_output)
    if reader.at != len(data):
        raise ModelFileError(f"{path}: {len(data) - reader.at} unexpected bytes after the model")
    output = None
    if values_at >= 0:
        output = np.frombuffer(data, dtype="<f4", count=rows * cols, offset=values_at
                               ).reshape(rows, cols).copy()
    return ModelFileFacts(
        version=version, dim=dim, word_ngrams=word_ngrams, bucket=bucket, nwords=nwords,
        nlabels=nlabels, prune_size=prune_size,
        prune_buckets=pairs[:, 0].astype(np.int64), prune_rows=pairs[:, 1].astype(np.int64),
        output_matrix=output)
