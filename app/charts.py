"""Small pictures drawn on the server as inline SVG (no script, no inline style: the CSP allows neither).

Each picture is a `Markup` string: an `<svg role="img">` whose <title> and <desc> say what it shows,
with a <title> on every bar (a tooltip on a desktop), sized in a 340-unit wide viewBox so that its
text stays readable when a 360 px phone scales it to the card's width. Every picture on a page also
has its numbers in a table beside it (the template's <details>), for screen readers and for people
who would rather read. Colours are SVG presentation attributes.
"""
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.templating import fmt_number

W = 340
INK, MUTED, GRID = "#1d232a", "#5a6570", "#d8ddd6"
GREEN, BLUE, LIGHT_GREEN = "#0b6e4f", "#3c78a8", "#9fcfb8"


def _svg(height: float, title: str, desc: str, body: list[str], prefix: str) -> Markup:
    """The picture; `prefix` names its title and description (one picture of each kind on a page)."""
    tid, did = f"{prefix}-title", f"{prefix}-desc"
    return Markup(
        f'<svg class="chart-svg" viewBox="0 0 {W} {height:.0f}" role="img" aria-labelledby="{tid} {did}" '
        f'focusable="false"><title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _text(x, y, text, *, size=12, anchor="start", fill=INK, weight=None) -> str:
    bold = ' font-weight="700"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}>'
            f"{escape(text)}</text>")


def _rect(x, y, w, h, fill, title) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}">'
            f"<title>{escape(title)}</title></rect>")


def weekly_activity(weeks: list, title: str, desc: str, names: tuple[str, str], week_label) -> Markup:
    """Two panels of bars sharing the weeks: contacts above, meetings below.

    `weeks`: [(period, contacts, meetings)], oldest first; `names`: the two panels' names;
    `week_label(period)`: the short label of a week (its Monday)."""
    left, panel_h, gap, top = 4, 78, 34, 18
    step = (W - left) / max(1, len(weeks))
    bar = step * 0.66
    body = []
    for k, (name, colour) in enumerate(((names[0], GREEN), (names[1], BLUE))):
        y0 = top + k * (panel_h + gap)
        values = [w[1 + k] for w in weeks]
        peak = max(values + [1])
        body.append(_text(left, y0 - 6, _("%(name)s (najwięcej w tygodniu: %(n)s)", name=name,
                                          n=fmt_number(max(values + [0]))), size=12, weight=True))
        base = y0 + panel_h
        body.append(f'<line x1="{left}" x2="{W}" y1="{base:.1f}" y2="{base:.1f}" stroke="{GRID}" stroke-width="1"/>')
        for i, (period, *_rest) in enumerate(weeks):
            v = values[i]
            h = panel_h * v / peak
            x = left + i * step + (step - bar) / 2
            body.append(_rect(x, base - h, bar, h, colour, f"{week_label(period)}: {name.lower()} {fmt_number(v)}"))
    axis = top + 2 * panel_h + gap + 14
    for i, (period, *_rest) in enumerate(weeks):
        if (len(weeks) - 1 - i) % 2 == 0:  # every other week, ending with this one
            body.append(_text(left + i * step + step / 2, axis, week_label(period), size=11, anchor="middle",
                              fill=MUTED))
    return _svg(axis + 6, title, desc, body, "weeks")


def funnel(rows: list[tuple[str, int]], title: str, desc: str) -> Markup:
    """The ladder as a funnel: one centred bar per rung, lowest rung on top, width by headcount."""
    label_w, row_h, bar_h = 128, 30, 22
    area = W - label_w - 4
    centre = label_w + area / 2
    peak = max([n for _name, n in rows] + [1])
    body = []
    for i, (name, n) in enumerate(rows):
        y = 4 + i * row_h
        w = max(area * n / peak, 2 if n else 0)
        body.append(_text(0, y + bar_h / 2 + 4, name, size=12))
        body.append(_rect(centre - w / 2, y, w, bar_h, GREEN if i % 2 == 0 else BLUE, f"{name}: {fmt_number(n)}"))
        inside = w >= 48
        body.append(_text(centre if inside else centre + w / 2 + 4, y + bar_h / 2 + 4, fmt_number(n), size=12,
                          anchor="middle" if inside else "start", fill="#fff" if inside else INK, weight=True))
    return _svg(4 + len(rows) * row_h, title, desc, body, "funnel")


def paired_bars(rows: list[tuple[str, list[int]]], series: tuple[str, str], title: str, desc: str) -> Markup:
    """Horizontal bars in pairs (e.g. this month and the last) for each row (e.g. an age group)."""
    label_w, bar_h, pair_gap = 96, 12, 10
    area = W - label_w - 44
    peak = max([v for _name, values in rows for v in values] + [1])
    legend_h = 20
    body = []
    for k, (name, colour) in enumerate(zip(series, (GREEN, LIGHT_GREEN))):
        x = k * 170
        body.append(f'<rect x="{x}" y="2" width="12" height="12" rx="2" fill="{colour}"/>')
        body.append(_text(x + 16, 12, name, size=12))
    for i, (name, values) in enumerate(rows):
        y = legend_h + 6 + i * (2 * bar_h + pair_gap)
        body.append(_text(0, y + bar_h + 4, name, size=12))
        for k, v in enumerate(values[:2]):
            w = area * v / peak
            by = y + k * bar_h
            body.append(_rect(label_w, by, w, bar_h - 2, (GREEN, LIGHT_GREEN)[k], f"{name}, {series[k]}: {fmt_number(v)}"))
            body.append(_text(label_w + w + 4, by + bar_h - 3, fmt_number(v), size=11, fill=INK if k == 0 else MUTED))
    height = legend_h + 6 + len(rows) * (2 * bar_h + pair_gap)
    return _svg(height, title, desc, body, "pairs")
