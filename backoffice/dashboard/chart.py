"""A server-side SVG bar chart of daily revenue: no JavaScript, no library."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 8, 28, 16


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str, str]]  # x, text, SVG text-anchor
    max_label: str
    baseline: float


def revenue_chart(daily, money, day_label) -> Chart:
    """``daily``: (day, orders, revenue minor); ``money``/``day_label`` format values."""
    peak = max((rev for _d, _n, rev in daily), default=0) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT * 2) / max(len(daily), 1)
    bars, labels = [], []
    for i, (day, orders, revenue) in enumerate(daily):
        h = max(revenue / peak * plot_h, 1.5 if revenue else 0)
        x = LEFT + i * step + step * 0.15
        bars.append(
            Bar(
                round(x, 1),
                round(TOP + plot_h - h, 1),
                round(step * 0.7, 1),
                round(h, 1),
                f"{day_label(day)}: {money(revenue)} ({orders})",
            )
        )
        if i == len(daily) - 1:  # ends at the last bar's right edge: never cut off
            labels.append((round(x + step * 0.7, 1), day_label(day), "end"))
        elif i % 5 == 0 and i < len(daily) - 3:  # not crowding the last label
            labels.append((round(x + step * 0.35, 1), day_label(day), "middle"))
    return Chart(WIDTH, HEIGHT, bars, labels, money(peak if peak > 1 else 0), TOP + plot_h)
