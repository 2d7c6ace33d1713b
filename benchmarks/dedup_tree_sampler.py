"""Memory and CPU time of a process tree, sampled from /proc (Linux; no psutil).

A benchmark child (and, for ours, the Ray daemons and workers it starts) is
one process tree. ``TreeSampler`` polls it and keeps the peak of the summed
RSS and of the summed PSS (which counts a shared page once, split among its
users: Ray's object store and forked workers share a lot), the processes at
that peak grouped by role, and the CPU time of every process ever seen.
"""
from __future__ import annotations

import os
import threading

# Command-line fragments of the processes an embedded Ray runtime starts
# besides the driver and its workers (Ray 2.x).
RAY_DAEMONS = ("gcs_server", "raylet", "dashboard.py", "DashboardAgent", "RuntimeEnvAgent",
               "monitor.py", "log_monitor.py")


def role(name: str) -> str:
    """Role of a process, from its command line.

    ``ray runtime`` (the daemons), ``ray workers``, or ``job``: the benchmark
    child itself (Ray's driver) and the processes it forks on its own
    (datatrove's workers).
    """
    if any(part in name for part in RAY_DAEMONS):
        return "ray runtime"
    if name.startswith("ray::") or "default_worker.py" in name:   # also workers starting
        return "ray workers"
    return "job"


def _proc_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc (Linux; no psutil needed)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Field 4 (ppid) follows the ")" that closes the command name.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _rss_pss_kib(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process so far, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])        # fields 14 and 15 of stat


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().split(b"\0")
    except OSError:
        return "?"
    words = [os.path.basename(p.decode(errors="replace")) for p in parts if p][:3]
    return " ".join(words)[:60]


def pss_by_role(root: int) -> dict[str, int]:
    """PSS in MiB of ``root``'s tree now, summed by ``role``, and in total."""
    by_role: dict[str, int] = {}
    for pid in _proc_tree(root):
        kind = role(_name(pid))
        by_role[kind] = by_role.get(kind, 0) + _rss_pss_kib(pid)[1] // 1024
    return {**by_role, "total": sum(by_role.values())}


class TreeSampler(threading.Thread):
    """Peak summed RSS and PSS, and total CPU time, of a process tree.

    CPU time is the sum over every process ever seen in the tree of its last
    sampled utime + stime (at most one interval of a process's end is
    missed). Unlike wall time it barely moves when other jobs share the
    machine, so it is the figure to compare on a busy host.
    """

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root = pid
        self.interval = interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.peak_detail: list = []
        self.peak_roles: dict = {}
        self.ticks: dict[int, int] = {}
        self.stop = threading.Event()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.stop.is_set():
            tree = _proc_tree(self.root)
            sizes = [_rss_pss_kib(pid) for pid in tree]
            for pid in tree:
                self.ticks[pid] = max(self.ticks.get(pid, 0), _cpu_ticks(pid))
            rss, pss = sum(r for r, _ in sizes) * 1024, sum(p for _, p in sizes) * 1024
            if pss > self.peak_pss:
                self.peak_processes = len(tree)
                self.peak_detail = sorted(((p // 1024, _name(pid)) for pid, (_, p) in
                                           zip(tree, sizes, strict=True)), reverse=True)
                self.peak_roles = {}
                for mib, name in self.peak_detail:
                    self.peak_roles[role(name)] = self.peak_roles.get(role(name), 0) + mib
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stop.wait(self.interval)
