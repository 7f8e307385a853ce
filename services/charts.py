"""PNG charts of published figures, readable on a phone (headless matplotlib, Agg backend).

Charts draw only what the text shows: a hidden or small figure is an empty bar labelled with
its marker ("<5", "x"), never its value. Labels arrive translated; DejaVu Sans, shipped with
matplotlib, covers Cyrillic including the Kazakh letters, so nothing is downloaded at run time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

# matplotlib (about 30 MB with numpy) is imported at the first chart, not when the bot starts.

WIDTH_PX = 1080  # a phone screen's width at Telegram's photo resolution
DPI = 150
MAX_HEIGHT_PX = 2400
FONT = "DejaVu Sans"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # 0 when not shown
    marker: str = ""  # "<5" or "x" when the value is not shown


def bar_chart(title: str, bars: Sequence[Bar], *, horizontal: bool, note: str = "") -> bytes:
    """A bar chart as PNG bytes; horizontal for long category names (regions, methods)."""
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    rows = max(1, len(bars))
    if horizontal:
        height = max(600, min(MAX_HEIGHT_PX, 300 + 80 * rows))
    else:
        height = 1080
    fig = MplFigure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    ax = fig.add_subplot()
    labels = [b.label for b in bars]
    values = [b.value for b in bars]
    positions = list(range(len(bars)))
    if horizontal:
        ax.barh(positions, values, color="#3b6ea5")
        ax.set_yticks(positions, labels, fontsize=13, fontfamily=FONT)
        ax.invert_yaxis()  # the first category on top
    else:
        ax.bar(positions, values, color="#3b6ea5")
        step = -(-len(bars) // 12)  # at most 12 readable labels on a phone
        ax.set_xticks(
            positions[::step], labels[::step], fontsize=12, fontfamily=FONT, rotation=45, ha="right"
        )
    top = max(values, default=0) or 1
    for pos, bar in zip(positions, bars, strict=True):
        text = bar.marker or (str(bar.value) if bar.value else "")
        if not text:
            continue
        if horizontal:
            ax.text(bar.value + top * 0.01, pos, text, va="center", fontsize=13, fontfamily=FONT)
        else:
            ax.text(pos, bar.value + top * 0.01, text, ha="center", va="bottom", fontsize=11, fontfamily=FONT)
    if horizontal:
        ax.set_xlim(0, top * 1.15)
    else:
        ax.set_ylim(0, top * 1.15)
    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=16, fontfamily=FONT, loc="left")
    if note:
        fig.text(0.01, 0.005, note, fontsize=10, fontfamily=FONT, color="#555555", va="bottom")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
