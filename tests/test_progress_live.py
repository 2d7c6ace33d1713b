"""Live progress: documents, docs/s and ETA while a shard runs; plain lines when stderr is not a terminal."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

from conftest import REPO, WARC_DIR


def _one_big_warc(tmp_path):
    """Every corpus WARC in one file (gzip members concatenate): one shard that takes seconds."""
    big = tmp_path / "all.warc.gz"
    with big.open("wb") as out:
        for warc in sorted(WARC_DIR.glob("*.warc.gz")):
            out.write(warc.read_bytes())
    return big


def _env(**extra):
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def test_plain_lines_stream_documents_while_the_only_shard_runs(corpus, tmp_path):
    big = _one_big_warc(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "dclm.cli", "extract", "--input", big, "--output",
                           tmp_path / "out", "--num-cpus", "1"], capture_output=True, text=True,
                          env=_env(DCLM_PROGRESS_EVERY_S="0.3"), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "\r" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("extract: ")]
    # Counted before the shard finished, with a rate and an ETA.
    moving = [line for line in lines if (found := re.search(r" 0/1 shard, ([\d,]+) docs, ", line))
              and int(found.group(1).replace(",", "")) > 0]
    assert moving, lines
    assert re.search(r"\d+ docs/s, ETA \d+:\d\d", moving[0]), moving[0]
    assert re.fullmatch(r"extract: 100% 1/1 shard, 1,2\d\d docs, [\d,]+ docs/s, elapsed \d+:\d\d", lines[-1]), lines
    assert "Token authentication" not in proc.stderr


def test_terminal_gets_one_line_redrawn_in_place(corpus, tmp_path):
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dclm.cli", "extract", WARC_DIR / "CC-MAIN-DEV-00011.warc.gz",
                             "--output", tmp_path / "out", "--num-cpus", "1"], stdout=subprocess.DEVNULL,
                            stderr=secondary, env=_env())
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:         # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0
    text = seen.decode()
    draws = [part for part in text.split("\r") if part.startswith("extract: |")]
    assert len(draws) >= 2, text
    assert re.match(r"extract: \|#{20}\| 100% 1/1 shard, 17\d docs", draws[-1]), draws[-1]


def test_line_counts_shards_and_documents_and_estimates_the_rest():
    import io

    from dclm.runtime.progress_display import StageProgress

    out = io.StringIO()
    progress = StageProgress("filter", 4, already_done=1, stream=out, plain_every_s=0.0)
    progress.update_running({"b": (500, 0.5), "c": (100, None)})
    progress.shard_finished("a")
    line = progress.line()
    # 1 earlier + 1 now of 4; this run's share: (1 finished + 0.5 of b) / 3 shards to do.
    assert line.startswith("filter: 50% 2/4 shards, 600 docs, ") and ", ETA " in line
    progress.shard_finished("b", documents=900)
    progress.shard_finished("c", failed=True)
    progress.close()
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("filter: 100% 4/4 shards, 1,000 docs, ") and last.endswith("1 failed")
    single = StageProgress("extract", 1, stream=io.StringIO(), plain_every_s=0.0)
    assert " 0/1 shard, " in single.line() and "docs" not in single.line()   # nothing counted yet
