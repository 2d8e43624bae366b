"""Charts for the managers' numbers, drawn on the server as PNG (matplotlib, no CDN: closed networks too).

Every text is set in the font that comes with the install: Noto Sans SC (SIL Open Font License 1.1), shipped
by the `pylopdf-fonts-zh-cn` package from PyPI. The chart never asks the machine for a font, so it reads the
same, in Chinese, on a server with no Chinese font at all (before, such a server drew English labels and a
title of boxes).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pylopdf_fonts_zh_cn

from cards.views import STAGES, Stats

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

# matplotlib is imported by load_drawing, not here: it is a third of what starting a Relay process imports
# (0.35 s of CPU). The app has its chart thread load it beside the event loop (workflow.charts), so start-up
# does not wait for it, and the CLI commands, which draw no chart, never pay it.

WIDTH, HEIGHT, DPI = 800, 480, 100


def font_file() -> Path:
    """Noto Sans SC Regular: Latin, digits, CJK punctuation and 27,000 Chinese characters (the basic CJK
    block and extension A), so any staff member's or unit's name draws."""
    return pylopdf_fonts_zh_cn.sans_path()


@functools.cache
def chart_font(size: float | None = None) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    # By file, never by family name: a family name would be looked up among the machine's fonts.
    return FontProperties(fname=font_file(), size=size)


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, as plain values: it travels in a job's payload, so the chart can be drawn later
    without reading the numbers again."""

    title: str
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # (unit name, a count per stage in STAGES order)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "groups": [[name, list(counts)] for name, counts in self.groups]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ChartData:
        return cls(
            str(value["title"]),
            tuple((str(name), tuple(int(n) for n in counts)) for name, counts in value["groups"]),
        )


def chart_data(stats: Stats) -> ChartData:
    """One group per unit below (or the whole scope when it has none)."""
    pairs = [(u.name, f) for u, f in stats.by_unit] or [(stats.unit.name, stats.total)]
    return ChartData(
        f"{stats.unit.name} · {stats.period.label}",
        tuple((name, tuple(f.counts.get(key, 0) for key, _, _ in STAGES)) for name, f in pairs),
    )


def load_drawing() -> None:
    """Import matplotlib and read the font: what the first chart of a process would otherwise wait for."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.figure  # noqa: F401

    chart_font()


def draw_chart(data: ChartData) -> bytes:
    """Bars of the five stage counts, one colour per group: 800×480 PNG. CPU-bound (about 0.1–0.2 s): call
    it off the event loop."""
    load_drawing()
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font, small = chart_font(), chart_font(8)
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(data.groups))
    for i, (name, counts) in enumerate(data.groups):
        xs = [x + i * width - 0.4 + width / 2 for x in range(len(STAGES))]
        bars = ax.bar(xs, counts, width, label=name)
        for text in ax.bar_label(bars):
            text.set_fontproperties(small)
    ax.set_xticks(range(len(STAGES)), [label for _, _, label in STAGES], fontproperties=font)
    ax.set_ylabel("订单数", fontproperties=font)
    ax.set_title(data.title, fontproperties=chart_font(13))
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for tick in ax.get_yticklabels():
        tick.set_fontproperties(font)  # later ticks copy the first one's font
    if len(data.groups) > 1:
        ax.legend(prop=small, frameon=False)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def stats_chart(stats: Stats) -> bytes:
    return draw_chart(chart_data(stats))
