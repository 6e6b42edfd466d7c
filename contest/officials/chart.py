"""A small bar chart drawn on the server as SVG: no script to download on a slow phone, readable by screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
_TOP, _BOTTOM, _LEFT, _RIGHT = 18, 28, 34, 8


def _ticks(peak: int) -> list[int]:
    """Round values from 0 to at least the peak for the vertical axis, at most five steps."""
    if peak <= 0:
        return [0, 1]
    step = 1
    while peak / step > 5:
        for factor in (2, 5, 10):
            if peak / (step * factor) <= 5 or factor == 10:
                step *= factor
                break
    top = -(-peak // step) * step
    return list(range(0, top + 1, step))


def bar_chart(points: list[tuple[str, int]], title: str, description: str = "", chart_id: str = "chart") -> Markup:
    """One bar per (label, value); <title>, <desc> and an aria-label name it, each bar has its own <title>.

    The caller also shows the numbers as a table: the picture is for eyes, the table for everyone.
    """
    ticks = _ticks(max((v for _, v in points), default=0))
    peak = ticks[-1] or 1
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.7)
    label_every = max(1, round(n / 10))  # about ten dates under the axis, whatever the period
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="11">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for tick in ticks:
        y = _TOP + plot_h - plot_h * tick / peak
        parts.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dde3" stroke-width="1"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6470" aria-hidden="true">{tick}</text>'
        )
    for i, (label, value) in enumerate(points):
        h = plot_h * value / peak
        x = _LEFT + i * slot + (slot - bar_w) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#b4121b">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if i % label_every == 0 or i == n - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#5b6470" '
                f'aria-hidden="true">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
