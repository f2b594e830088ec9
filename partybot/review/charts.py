"""Small server-side SVG charts for the dashboard: no JavaScript, no CDN, nothing to fetch.

Each chart is an ``<svg role="img">`` with a ``<title>`` (what it shows) and a legend; the page
puts the numbers in a table beside it for screen readers and copying.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 40
COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"]


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _frame(title: str, labels: list[str], y_max: float, y_fmt, series_names: list[str]) -> list[str]:
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i in range(5):  # horizontal grid and y labels
        y = TOP + ph - ph * i / 4
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#4b5563">'
                   f'{escape(y_fmt(y_max * i / 4))}</text>')
    step = max(1, math.ceil(len(labels) / 8))
    n = max(len(labels), 1)
    for i, lab in enumerate(labels):
        if i % step == 0:
            x = LEFT + pw * (i + 0.5) / n
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                       f'fill="#4b5563">{escape(lab)}</text>')
    for i, name in enumerate(series_names):  # legend
        x = LEFT + i * 110
        out.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{COLORS[i % len(COLORS)]}"/>'
                   f'<text x="{x + 14}" y="15" font-size="12" fill="#111827">{escape(name)}</text>')
    return out


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *,
              y_fmt=lambda v: f"{v:g}") -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    y_max = _nice_max(max((v for _, vals in series for v in vals), default=0))
    out = _frame(title, labels, y_max, y_fmt, [s for s, _ in series])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels), 1)
    group = pw / n
    bw = max(1.0, group * 0.8 / max(len(series), 1))
    for si, (name, vals) in enumerate(series):
        for i, v in enumerate(vals):
            h = ph * (v / y_max)
            x = LEFT + group * i + group * 0.1 + bw * si
            out.append(f'<rect x="{x:.1f}" y="{TOP + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS[si % len(COLORS)]}"><title>{escape(labels[i])} · {escape(name)}: '
                       f'{escape(y_fmt(v))}</title></rect>')
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], *,
               y_fmt=lambda v: f"{v:g}", y_max: float | None = None) -> Markup:
    """Lines with a dot per value; None leaves a gap (a day without data)."""
    top = y_max or _nice_max(max((v for _, vals in series for v in vals if v is not None), default=0))
    out = _frame(title, labels, top, y_fmt, [s for s, _ in series])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels), 1)
    for si, (name, vals) in enumerate(series):
        color = COLORS[si % len(COLORS)]
        points: list[str] = []
        for i, v in enumerate(vals):
            if v is None:
                if len(points) > 1:
                    out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(points)}"/>')
                points = []
                continue
            x, y = LEFT + pw * (i + 0.5) / n, TOP + ph - ph * min(v, top) / top
            points.append(f"{x:.1f},{y:.1f}")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(labels[i])} · '
                       f'{escape(name)}: {escape(y_fmt(v))}</title></circle>')
        if len(points) > 1:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(points)}"/>')
    out.append("</svg>")
    return Markup("".join(out))
