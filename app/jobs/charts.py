"""Small static SVG charts, drawn as text: no plotting library, no script, nothing fetched.

Each chart writes its numbers next to the bars and carries a ``<title>``, so it reads without
colour and a screen reader announces it. Colours come from CSS classes (``bar--<tone>``), never
from inline styles, which a strict Content-Security-Policy would block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 26  # px per bar in a horizontal chart
BAR_SPACE = 330
# Text is measured without a browser: 13 px sans-serif averages under 8 px a character even in
# capitals, so columns sized at CHAR px a character never clip a label or a value.
CHAR = 8.5
PAD = 10


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str = "plain"  # CSS modifier: bar--<tone>
    note: str = ""  # shown after the value, e.g. "(12%)"


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one labelled row each, longest value = full width."""
    top = max((b.value for b in bars), default=0) or 1
    height = ROW * max(len(bars), 1) + 8
    label_width = round(max((len(b.label) for b in bars), default=0) * CHAR) + 2 * PAD
    value_width = round(max((len(_value(b)) for b in bars), default=0) * CHAR) + 2 * PAD
    width = label_width + BAR_SPACE + value_width
    parts = [_open(chart_id, title, width, height)]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        length = round(BAR_SPACE * bar.value / top)
        parts.append(
            f'<text x="{label_width - PAD}" y="{y + 17}" class="chart-label" '
            f'text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(length, 1)}" height="{ROW - 8}" '
            f'class="bar bar--{escape(bar.tone)}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 17}" class="chart-value">'
            f"{escape(_value(bar))}</text>"
        )
    if not bars:
        parts.append('<text x="8" y="20" class="chart-label">Nothing to show yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(chart_id: str, title: str, bars: Sequence[Bar], *, axis: str) -> Markup:
    """Vertical bars over labelled bins (the score histogram)."""
    top = max((b.value for b in bars), default=0) or 1
    widest = max((len(t) for b in bars for t in (b.label, str(b.value))), default=0)
    col, plot, base = max(56, round(widest * CHAR) + PAD), 160, 190
    width = col * max(len(bars), 1) + 16
    parts = [_open(chart_id, title, width, base + 44)]
    for i, bar in enumerate(bars):
        x = 8 + i * col
        length = round(plot * bar.value / top)
        parts.append(
            f'<rect x="{x + 6}" y="{base - length}" width="{col - 12}" height="{max(length, 1)}" '
            f'class="bar bar--{escape(bar.tone)}"/>'
            f'<text x="{x + col / 2:g}" y="{base - length - 6}" class="chart-value" '
            f'text-anchor="middle">{bar.value}</text>'
            f'<text x="{x + col / 2:g}" y="{base + 18}" class="chart-label" '
            f'text-anchor="middle">{escape(bar.label)}</text>'
        )
    parts.append(
        f'<text x="{width / 2:g}" y="{base + 38}" class="chart-label" '
        f'text-anchor="middle">{escape(axis)}</text></svg>'
    )
    return Markup("".join(parts))


def _value(bar: Bar) -> str:
    return f"{bar.value} {bar.note}" if bar.note else str(bar.value)


def _open(chart_id: str, title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"><title id="{chart_id}">{escape(title)}</title>'
    )
