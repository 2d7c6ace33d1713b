"""Issue 15: property-based fuzzing of the three entry points that read what strangers write.

The WARC record reader, the recipe loader and the submission validator each
get a few hundred generated inputs, grown from valid ones by mutation and from
their grammar (tar headers, YAML trees). The invariant is the same for all
three: the only outcomes are a result or the entry point's own refusal
(ShardError, UsageError, an invalid Result), never a traceback, and each
example finishes within the deadline.
"""
from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
import hostile_archives as hostile  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dclm.errors import ShardError, UsageError  # noqa: E402

EXAMPLES = 300
FUZZ = settings(max_examples=EXAMPLES, deadline=5000, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


# ---------------------------------------------------------------- WARC record reader

def _warc_bytes(compress: bool) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    for index in range(2):
        body = f"<html><body><p>page {index} text</p></body></html>".encode()
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"http://example.com/{index}", "response",
                                                      payload=io.BytesIO(body), http_headers=http))
    return buffer.getvalue()


VALID_WARCS = [_warc_bytes(False), _warc_bytes(True)]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A valid input with a few byte flips, insertions, deletions and a possible truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "digits"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=64))
        elif action == "delete":
            del data[at: at + draw(st.integers(1, 64))]
        else:                                   # a long number where a length is expected
            data[at:at] = b"9" * draw(st.integers(1, 5000))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(data=st.one_of(mutated(VALID_WARCS), st.binary(max_size=2048)))
def test_fuzz_warc_record_reader(tmp_path_factory, data):
    from dclm.io.warc_records import Malformed, Record, iter_archive

    path = tmp_path_factory.mktemp("warc") / "fuzz.warc.gz"
    path.write_bytes(data)
    try:
        for event in iter_archive(str(path)):
            assert isinstance(event, (Record, Malformed))
    except ShardError:
        pass


# ---------------------------------------------------------------- recipe loader

def _operators() -> list[str]:
    from filters.registry import operator_names

    # Steps whose load-time check opens a large model are left to their own tests: loading,
    # not parsing, would dominate the time.
    return [name for name in operator_names() if "lang" not in name and "fasttext" not in name]


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20))
PARAMETERS = st.sampled_from(["min_length", "max_length", "keep_probability", "length_type", "banlist",
                              "max_ratio", "seed", "count_unique", "delimiter", "key", "threshold", "_aggregate"])
TREES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=20)


@st.composite
def recipes(draw) -> str:
    import yaml

    steps = []
    for _ in range(draw(st.integers(0, 4))):
        step = {"func": draw(st.one_of(st.sampled_from(_operators()), TREES))}
        step.update(draw(st.dictionaries(PARAMETERS, TREES, max_size=3)))
        steps.append(draw(st.one_of(st.just(step), st.just("commit"), TREES)))
    block = {"steps": steps}
    if draw(st.booleans()):
        block["source"] = draw(st.one_of(st.text(max_size=10), TREES))
    document = draw(st.sampled_from([[block], block, {"x": block}]))
    text = yaml.safe_dump(document, allow_unicode=True)
    if draw(st.booleans()):                     # anchors and aliases, as an attacker writes them
        text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=True)) + text
    return text


@FUZZ
@given(text=st.one_of(recipes(), st.text(max_size=500), mutated([b"- source: cc\n  steps:\n    - func: "
                                                                  b"page_length_filter\n      length_type: word\n"])))
def test_fuzz_recipe_loader(text):
    from dclm.recipe import parse_recipe

    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        parse_recipe(text, "fuzz.yaml")
    except UsageError:
        pass


# ---------------------------------------------------------------- archive validator

NAMES = st.one_of(st.sampled_from(["submission.json", "MANIFEST.sha256", "eval.json", "ledger/a.json",
                                   "shards/a.parquet", "../x", "/etc/passwd", "a//b", "././@LongLink"]),
                  st.text(max_size=30))
TYPES = st.sampled_from([b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"x", b"g", b"L", b"K", b"S", b"Z"])


@st.composite
def tar_members(draw) -> bytes:
    kind = draw(TYPES)
    data = draw(st.one_of(st.binary(max_size=600), st.sampled_from([b"{}", b"[" * 300, b"30 path=a/b/c/d/e/f/g/h/i\n",
                                                                    b"20 size=99999999999\n"])))
    declared = draw(st.one_of(st.just(len(data)), st.integers(0, 1 << 40)))
    return hostile.header(draw(NAMES), declared, kind) + hostile.padded(data)


@st.composite
def archives(draw) -> tuple[bytes, bool]:
    raw = b"".join(draw(st.lists(tar_members(), max_size=6))) + draw(st.sampled_from([hostile.END, b"", b"\0" * 100]))
    return raw, draw(st.booleans())


def _real_package_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("submission.json", b'{"schema_version": 1}'), ("MANIFEST.sha256", b""),
                           ("eval.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


@FUZZ
@given(archive=st.one_of(archives(), mutated([_real_package_archive()]).map(lambda b: (b, False))))
def test_fuzz_archive_validator(tmp_path_factory, archive):
    from dclm.submission.validate import Result, validate

    raw, compress = archive
    folder = tmp_path_factory.mktemp("tar")
    path = hostile.write(folder / "fuzz.tar.gz", raw, compress=compress)
    result = validate(path, scratch=str(folder))
    assert isinstance(result, Result) and isinstance(result.problems, list)
    assert all(isinstance(p, str) and len(p) < 5000 for p in result.problems)
    assert [p.name for p in Path(folder).iterdir()] == ["fuzz.tar.gz"]     # nothing left behind
