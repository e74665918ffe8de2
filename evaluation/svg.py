"""Inline SVG charts drawn by hand for report.html (no plotting library): bar histograms, one row of bars a
named series on a shared scale, and a scatter plot of two scores with its diagonal.

Every string drawn (series names, labels, titles) is HTML-escaped here; callers pass plain text. The SVG
has no xmlns: it is meant to sit inside an HTML page, where the HTML parser gives it its namespace.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

WIDTH = 560
LEFT = 150  # room for the series names
RIGHT = 20
ROW = 64  # height of one series' row of bars
COLORS = ("#3b6ea8", "#d9822b", "#5a9e5a", "#a8557b", "#7c6cb0", "#8a8a3b")
REFERENCE_COLOR = "#777777"


def _n(value: float) -> str:
    """A coordinate with one decimal, no trailing zeros (keeps the page small)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, extra: str = "") -> str:
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(text)}</text>")


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (f'<svg role="img" width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
            f'font-family="sans-serif"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def color(index: int, name: str) -> str:
    return REFERENCE_COLOR if name == "reference" else COLORS[index % len(COLORS)]


def bar_rows(series: Sequence[tuple[str, Sequence[int]]], bins: Sequence[str], *, title: str, x_label: str,
             unit: str = "documents") -> str:
    """One row of bars per (name, counts); counts[i] is the height of bin `bins[i]`. All rows share one
    height scale (the largest count) so rows compare; each bar's tooltip gives its bin and count (empty bins
    draw nothing)."""
    plot = WIDTH - LEFT - RIGHT
    step = plot / max(len(bins), 1)
    peak = max((max(counts, default=0) for _, counts in series), default=0) or 1
    body = [_text(WIDTH / 2, 16, title, anchor="middle", size=13, extra=' font-weight="bold"')]
    top = 28
    for k, (name, counts) in enumerate(series):
        base = top + (k + 1) * ROW - 8
        body.append(_text(LEFT - 8, base - ROW / 2 + 10, name, anchor="end"))
        body.append(f'<line x1="{LEFT}" y1="{_n(base)}" x2="{WIDTH - RIGHT}" y2="{_n(base)}" stroke="#999"/>')
        for i, count in enumerate(counts):
            if not count:
                continue
            height = (ROW - 14) * count / peak
            body.append(f'<rect x="{_n(LEFT + i * step + 1)}" y="{_n(base - height)}" width="{_n(step - 2)}" '
                        f'height="{_n(height)}" fill="{color(k, name)}"><title>{escape(name)}: {escape(bins[i])}: '
                        f"{count} {unit}</title></rect>")
    bottom = top + len(series) * ROW
    for i in (0, len(bins) // 2, len(bins) - 1) if bins else ():
        body.append(_text(LEFT + (i + 0.5) * step, bottom + 6, bins[i], anchor="middle", size=10))
    body.append(_text(LEFT + plot / 2, bottom + 22, x_label, anchor="middle"))
    return _svg(WIDTH, bottom + 30, title, body)


def scatter(points: Sequence[tuple[float, float]], *, title: str, x_label: str, y_label: str,
            top: float = 100.0) -> str:
    """A square scatter of (x, y) in [0, top] with the diagonal y = x: points above it favour y."""
    size, margin = 300, 44
    scale = (size - 2 * margin) / top

    def at(x: float, y: float) -> tuple[str, str]:
        return _n(margin + x * scale), _n(size - margin - y * scale)

    (x0, y0), (x1, y1) = at(0, 0), at(top, top)
    body = [_text(size / 2, 16, title, anchor="middle", size=13, extra=' font-weight="bold"'),
            f'<rect x="{x0}" y="{y1}" width="{_n(top * scale)}" height="{_n(top * scale)}" fill="none" stroke="#999"/>',
            f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#c33" stroke-dasharray="4 3"/>']
    for x, y in points:
        cx, cy = at(x, y)
        body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{COLORS[0]}" fill-opacity="0.45"/>')
    for tick in (0, top / 2, top):
        tx, ty = at(tick, tick)
        body.append(_text(float(tx), size - margin + 14, f"{tick:g}", anchor="middle", size=10))
        body.append(_text(margin - 5, float(ty) + 4, f"{tick:g}", anchor="end", size=10))
    body.append(_text(size / 2, size - 8, x_label, anchor="middle"))
    body.append(_text(12, size / 2, y_label, anchor="middle", extra=f' transform="rotate(-90 12 {_n(size / 2)})"'))
    return _svg(size, size, title, body)
