"""Timing, repeats, memory readings and the results file: what every benchmark shares.

A figure is a measured value with its unit, its target, and (where the issue asks for
one) the raw limit or baseline measured in the same run; machines are noisy, so each
timing is repeated and reported as min / median / max, and ratios are what to compare.
"""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass
class Spread:
    """min / median / max of repeated readings (and p95 / p99 when there are many)."""

    min: float
    median: float
    max: float
    n: int
    p99: float | None = None
    p95: float | None = None

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        v = sorted(values)
        return cls(v[0], statistics.median(v), v[-1], len(v), _rank(v, 0.99, 20), _rank(v, 0.95, 10))


def _rank(v: list[float], q: float, least: int) -> float | None:
    """The ``q`` quantile of sorted readings (nearest rank), or None for fewer than ``least``."""
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if len(v) >= least else None


@dataclass
class Figure:
    name: str  # short id, also what --only matches
    title: str  # what was measured, in words
    unit: str
    value: Spread
    target: str = ""  # the target, in words
    met: bool | None = None
    baseline: dict = field(default_factory=dict)  # name -> Spread of the limit/baseline
    ratios: dict = field(default_factory=dict)  # name -> float (value / baseline, by medians)
    notes: str = ""
    extra: dict = field(default_factory=dict)


def repeat(fn: Callable[[], float], times: int) -> Spread:
    """Run ``fn`` (which returns one reading) ``times`` times."""
    return Spread.of([fn() for _ in range(times)])


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(current, peak) resident set of a process in MB, from /proc."""
    fields = {}
    with open(f"/proc/{pid or os.getpid()}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit in ("s",):
        return f"{x:.3g}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def table(figures: list[Figure]) -> str:
    head = (f"{'figure':<34} {'median':>12} {'min':>10} {'max':>10} {'p95':>10} {'p99':>10} {'unit':<9} {'target':<26}"
            f" {'met':<4} ratios")
    lines = [head, "-" * len(head)]
    for f in figures:
        v = f.value
        ratios = ", ".join(f"{k} {r:.2f}" for k, r in f.ratios.items())
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        lines.append(
            f"{f.name:<34} {fmt(v.median):>12} {fmt(v.min):>10} {fmt(v.max):>10} {fmt(v.p95):>10} {fmt(v.p99):>10}"
            f" {f.unit:<9} {f.target:<26} {met:<4} {ratios}"
        )
        for k, b in f.baseline.items():
            lines.append(f"  {'└ ' + k:<32} {fmt(b.median):>12} {fmt(b.min):>10} {fmt(b.max):>10} {fmt(b.p95):>10}"
                         f" {fmt(b.p99):>10}")
    return "\n".join(lines)


def write(figures: list[Figure], meta: dict, path: Path | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": machine(), **meta, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    return path


def markdown(doc: dict) -> str:
    """The figures of a results file as a Markdown table (for docs/SCALING.md)."""
    lines = ["| figure | median | min – max | p99 | target | met | same-run baseline |", "|---|---|---|---|---|---|---|"]
    for f in doc["figures"]:
        v = f["value"]
        base = "; ".join(f"{k}: {fmt(b['median'])}" for k, b in f["baseline"].items())
        ratios = "; ".join(f"{k} {r:.2f}" for k, r in f["ratios"].items())
        met = "—" if f["met"] is None else ("yes" if f["met"] else "**no**")
        lines.append(f"| `{f['name']}` {f['title']} | {fmt(v['median'])} {f['unit']} | {fmt(v['min'])} – {fmt(v['max'])} "
                     f"| {fmt(v.get('p99'))} | {f['target']} | {met} | {'; '.join(x for x in (base, ratios) if x)} |")
    return "\n".join(lines)
