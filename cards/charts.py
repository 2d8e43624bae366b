"""Charts for the managers' numbers, drawn on the server as PNG (matplotlib, no CDN: closed networks too)."""

from __future__ import annotations

import functools
import io

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cards.views import STAGES, Stats  # noqa: E402

WIDTH, HEIGHT, DPI = 800, 480, 100
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
ENGLISH = {
    "新建订单": "Created",
    "测量完成": "Measured",
    "设计完成": "Designed",
    "产品入库": "Goods in",
    "安装完成": "Installed",
}


@functools.cache
def cjk_font() -> str | None:
    """A font that has Chinese, if the machine has one (Debian: fonts-noto-cjk)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _label(text: str) -> str:
    return text if cjk_font() else ENGLISH.get(text, text)


def stats_chart(stats: Stats) -> bytes:
    """Bars of the five stage counts, one group per unit below (or the whole scope): 800×480 PNG."""
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    font = cjk_font()
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    stages = [_label(label) for _, _, label in STAGES]
    groups = [(u.name, f) for u, f in stats.by_unit] or [(stats.unit.name, stats.total)]
    width = 0.8 / max(1, len(groups))
    for i, (name, figures) in enumerate(groups):
        values = [figures.counts.get(key, 0) for key, _, _ in STAGES]
        xs = [x + i * width - 0.4 + width / 2 for x in range(len(STAGES))]
        bars = ax.bar(xs, values, width, label=name if font else f"#{i + 1}")
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(STAGES)), stages, fontfamily=font or "DejaVu Sans")
    ax.set_title(
        f"{stats.unit.name} · {stats.period.label}" if font else stats.period.label, fontfamily=font or "DejaVu Sans"
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(groups) > 1:
        ax.legend(prop={"family": font or "DejaVu Sans", "size": 8}, frameon=False)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
