"""CPU accounting from /proc: how busy the machine is, and how much of that was this benchmark.

The machine is shared (TOOLCHAIN-NOTES trap 12): the benchmark waits for idle CPUs first and,
for every phase, records the machine's busy fraction and the part of it that was not ours.
"""

import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def machine_jiffies():
    """(busy, total) jiffies over all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]  # user … steal
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_fraction(interval):
    """The machine's busy fraction (0..1 of all CPUs) over the next `interval` seconds."""
    b0, t0 = machine_jiffies()
    time.sleep(interval)
    b1, t1 = machine_jiffies()
    return (b1 - b0) / max(t1 - t0, 1)


def wait_for_idle(max_busy, settle_s, timeout_s, log):
    """Waits until `settle_s` consecutive 1-s samples are at most `max_busy` busy, or timeout.

    Returns {"idle_reached", "waited_s", "busy_before"} where busy_before is the mean of the
    last `settle_s` samples (what the machine looked like when the measurements started)."""
    start = time.monotonic()
    samples = []
    while True:
        samples.append(busy_fraction(1.0))
        recent = samples[-settle_s:]
        if len(recent) == settle_s and max(recent) <= max_busy:
            reached = True
            break
        if time.monotonic() - start > timeout_s:
            reached = False
            break
        if len(samples) % 10 == 0:
            log(f"waiting for idle CPUs: busy {samples[-1]:.0%} (want ≤ {max_busy:.0%})")
    return {"idle_reached": reached, "waited_s": round(time.monotonic() - start, 1),
            "busy_before": sum(recent) / len(recent), "busy_max_seen": max(samples)}


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()  # fields from the 3rd (state) on


def _parents():
    """pid → ppid of every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                out[int(name)] = int(_stat_fields(name)[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def descendants(root):
    """Every live descendant of `root` (not root itself)."""
    parents = _parents()
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def _process_cpu_s(pid):
    """utime + stime + cutime + cstime of a live process, in seconds (0 once it is gone)."""
    try:
        f = _stat_fields(pid)
    except OSError:
        return 0.0
    return sum(int(v) for v in f[11:15]) / CLK_TCK


def our_cpu_s():
    """CPU seconds used by this process and its whole tree (live descendants and reaped ones)."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return own + sum(_process_cpu_s(pid) for pid in descendants(os.getpid()))


class CpuMeter:
    """Machine busy fraction over an interval, split into ours and the rest of the machine."""

    def __init__(self):
        self._start = None

    def __enter__(self):
        self._start = (time.monotonic(), machine_jiffies(), our_cpu_s())
        self.result = None
        return self

    def __exit__(self, *exc):
        wall0, (b0, t0), ours0 = self._start
        wall = time.monotonic() - wall0
        b1, t1 = machine_jiffies()
        busy = (b1 - b0) / max(t1 - t0, 1)
        ours = (our_cpu_s() - ours0) / max(wall * NCPU, 1e-9)
        self.result = {"busy": busy, "ours": min(ours, busy), "others": max(busy - ours, 0.0)}
        return False
