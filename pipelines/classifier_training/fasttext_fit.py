"""Running fastText's supervised training in a fresh process, so that it is reproducible.

fastText (Joulin et al. 2017) is deterministic with one thread and a fixed
``seed`` in principle. In practice, with the ``fasttext`` build we install,
repeated trainings in one process gave different models (and sometimes
"Encountered NaN."), while every training in a fresh process gave the same
bytes. The cause: with one thread, ``DenseMatrix::uniform`` initializes only
the first tenth of the input matrix (it splits the work in ten blocks, one
per thread) and the rest keeps whatever the allocator returns. Fresh pages
from the operating system are zero, recycled heap memory is not, and a
process that has already trained (or allocated much) hands fastText recycled
memory.

So training always runs in a child process started for it, which also
fixes glibc's mmap threshold (``mallopt(M_MMAP_THRESHOLD)``) before
anything else so that large blocks always come from fresh, zeroed pages.
The child receives the options as JSON, writes the model, and reports
fastText's error message on failure.
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

M_MMAP_THRESHOLD = -3            # glibc's mallopt parameter number
_MMAP_THRESHOLD_BYTES = 64 * 1024


class FitError(RuntimeError):
    """fastText failed (its own message, e.g. "Encountered NaN.")."""


def _fresh_pages_for_large_blocks() -> None:
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):   # not glibc: the fresh process alone still helps
        pass


def _fit(options: dict) -> None:
    """In the child: train (and quantize) with ``options`` and save to ``options['output']``."""
    _fresh_pages_for_large_blocks()
    import fasttext

    model = fasttext.train_supervised(
        input=options["train_file"], dim=options["dim"], wordNgrams=options["word_ngrams"],
        epoch=options["epoch"], lr=options["lr"], minCount=options["min_count"],
        bucket=options["bucket"], loss="softmax", seed=options["seed"], thread=1, verbose=0)
    if options["quantize"]:
        model.quantize(input=options["train_file"], retrain=True, cutoff=options["cutoff"],
                       qnorm=True, dsub=2, thread=1, verbose=0)
    model.save_model(options["output"])


def fit_in_fresh_process(options: dict) -> None:
    """Train in a new Python process; raises FitError with fastText's message on failure.

    ``options``: train_file, output, dim, word_ngrams, epoch, lr, min_count,
    bucket, seed, quantize, cutoff.
    """
    env = dict(os.environ)
    # The child must import this package the way the parent does (checkout or install).
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run([sys.executable, "-m", "pipelines.classifier_training.fasttext_fit"],
                          input=json.dumps(options), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise FitError(lines[-1] if lines else f"fastText training exited with {done.returncode}")


if __name__ == "__main__":
    _fit(json.loads(sys.stdin.read()))
