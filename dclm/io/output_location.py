"""Refusing an output folder that is, or is inside, an input, or that holds an input file.

`dclm filter --input X --output X --force` would replace each shard while it
is being read, and `--force` cannot make that safe: the check runs whatever
the options. Local paths are compared after resolving links (``..``, ``.``
and symbolic links cannot hide the overlap); URLs are compared as text.
"""
from __future__ import annotations

import os
from typing import Iterable

from dclm.errors import UsageError


def _location(path: str) -> str:
    if "://" in path:
        return path.rstrip("/")
    return os.path.realpath(path.removeprefix("file://"))


def _inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies somewhere under it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_output_apart(output: str, input_files: Iterable[str], input_args: Iterable[str] = ()) -> None:
    """UsageError when writing to ``output`` could overwrite or mix with what is being read.

    ``input_files``: the resolved input shards (none may lie inside the output);
    ``input_args``: the inputs as given (the output may not be a given input folder, nor inside one).
    """
    target = _location(output)
    for given in input_args:
        if "*" in given or "?" in given or "[" in given:
            continue                       # a pattern names files; the files are checked below
        place = _location(given)
        if _inside(target, place) and ("://" in given or os.path.isdir(place) or place == target):
            raise UsageError(f"--output {output} is {'the input' if place == target else 'inside the input'} "
                             f"{given}; write the output somewhere else (--force does not change this)")
    for shard in input_files:
        if _inside(_location(shard), target):
            raise UsageError(f"input {shard} lies inside --output {output}: the run would overwrite what it "
                             "reads; write the output somewhere else (--force does not change this)")
