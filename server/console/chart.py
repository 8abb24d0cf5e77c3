"""Bar charts drawn on the server as SVG geometry: the console shows points issued and
spent by month without any chart library or script; the template draws the rectangles."""

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 56, 28, 12


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    flow: str
    value: int
    month: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[int, int]]  # (y, value)
    labels: list[tuple[int, str]]  # (x, month)
    baseline: int


def bars(months: list[str], series: dict[str, list[int]], flows: tuple[str, ...]) -> Chart:
    """Grouped bars, one group per month and one bar per flow (its size the absolute value:
    deductions and spending are drawn upward too, their sign is in the table)."""
    top = max([abs(v) for f in flows for v in series.get(f, [])] + [1])
    plot_h = HEIGHT - BOTTOM - TOP
    group = (WIDTH - LEFT) // max(len(months), 1)
    bar_w = max((group - 8) // max(len(flows), 1), 2)
    out = []
    for i, month in enumerate(months):
        for j, flow in enumerate(flows):
            value = series.get(flow, [0] * len(months))[i]
            h = round(abs(value) * plot_h / top)
            out.append(Bar(LEFT + i * group + 4 + j * bar_w, HEIGHT - BOTTOM - h, bar_w - 1, h, flow, value, month))
    ticks = [(HEIGHT - BOTTOM - round(plot_h * k / 4), round(top * k / 4)) for k in range(5)]
    labels = [(LEFT + i * group + group // 2, m[2:]) for i, m in enumerate(months)]
    return Chart(WIDTH, HEIGHT, out, ticks, labels, HEIGHT - BOTTOM)
