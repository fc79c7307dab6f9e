"""The cooperation network as a picture, drawn on the server as inline SVG (no script needed).

A layered layout, the same for the same data: partners in the left column (by kind, then name),
groups in the right one (ordered by where their partners are, to keep lines short and crossings
few), the centre (CIL) between them. Lines: the centre and a partner (thicker with more entries
in the cooperation log, dashed with none yet), the centre and a group it animates, a partner and a
group it supports, and arcs on the left between partners that took part in the same meetings.

The picture keeps its natural size (text 12-13 px) inside a scrollable box on a phone and is
scaled to the page width when printed. Colours are SVG presentation attributes: the CSP allows
no inline style.
"""
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

ROW = 52  # vertical distance between two nodes of a column
BOX_H = 40
BOX_W = 240
ARC_SPACE = 110  # room on the left for the arcs between partners
GAP = 150  # between the columns: the centre sits here
TOP = 40  # below the column headings
PAD = 16
TEXT_ROOM = BOX_W - 20  # px for a label inside a box
WIDTH = ARC_SPACE + BOX_W + GAP + BOX_W + PAD

GREEN, AMBER, BLUE, GREY, INK, MUTED = "#0b6e4f", "#b5770d", "#3c78a8", "#9aa5ae", "#1d232a", "#5a6570"


@dataclass
class Node:
    kind: str  # "partner", "group", "centre"
    id: int
    name: str
    sub: str  # a second line: the partner's kind, the group's stage
    x: float
    y: float  # top of the box
    href: str | None = None

    @property
    def mid(self) -> float:
        return self.y + BOX_H / 2


def _width(text: str, size: float = 13, bold: bool = True) -> float:
    """About how wide `text` is in a sans-serif font at `size` px, on the generous side (there are
    no font metrics on the server)."""
    em = 0.0
    for c in text:
        if c in "iljtfrI.,;:|!'’ ()-":
            em += 0.32
        elif c in "mwMW":
            em += 0.9
        elif c.isupper() or c in "„”\"":
            em += 0.7
        else:
            em += 0.58
    return em * size * (1.12 if bold else 1.0)


def _short(text: str, room: float = TEXT_ROOM, size: float = 13, bold: bool = True) -> str:
    """`text`, cut with an ellipsis where it would leave its box."""
    if _width(text, size, bold) <= room:
        return text
    while text and _width(text + "…", size, bold) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, width: int = 18, lines: int = 3) -> list[str]:
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1] + "…"
    return out


def layout(net, partner_label, group_label, partner_url, group_url):
    """Place the nodes: returns (partners, groups, centre position, height)."""
    partner_x = ARC_SPACE
    group_x = ARC_SPACE + BOX_W + GAP
    rows = max(len(net.partners), len(net.groups), 1)
    height = TOP + rows * ROW + PAD

    def column_top(n: int) -> float:
        return TOP + (rows - n) * ROW / 2  # the shorter column is centred against the longer one

    p_top = column_top(len(net.partners))
    partners = [Node("partner", p.id, p.name, partner_label(p.kind), partner_x, p_top + i * ROW, partner_url(p.id))
                for i, p in enumerate(net.partners)]
    index = {n.id: i for i, n in enumerate(partners)}
    # Each group beside the partners that support it: the mean row of its partners, then the name.
    rows_of: dict[int, list[int]] = {}
    for (pid, gid) in net.partner_group:
        if pid in index:
            rows_of.setdefault(gid, []).append(index[pid])
    ordered = sorted(net.groups, key=lambda g: (sum(rows_of.get(g[0], [0])) / max(len(rows_of.get(g[0], [])), 1),
                                                 g[1].lower(), g[0]))
    g_top = column_top(len(ordered))
    groups = [Node("group", gid, name, group_label(stage), group_x, g_top + i * ROW, group_url(gid))
              for i, (gid, name, stage) in enumerate(ordered)]
    centre = (ARC_SPACE + BOX_W + GAP / 2, TOP + rows * ROW / 2 - ROW / 4)
    return partners, groups, centre, height


def _curve(x1, y1, x2, y2) -> str:
    mx = (x1 + x2) / 2
    return f"M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def render(net, *, partner_label, group_label, partner_url, group_url) -> Markup:
    """The SVG element for `net` (a `models.diagnosis_queries.Network`)."""
    partners, groups, (cx, cy), height = layout(net, partner_label, group_label, partner_url, group_url)
    by_partner = {n.id: n for n in partners}
    by_group = {n.id: n for n in groups}
    # gettext calls stay outside the f-strings: pybabel does not look inside them.
    title = _("Sieć współpracy: %(centre)s", centre=net.centre_name)
    partners_heading, groups_heading = _("Partnerzy"), _("Grupy")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="network-svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="network-title" '
           f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif">',
           f'<title id="network-title">{escape(title)}</title>',
           f'<text x="{ARC_SPACE}" y="22" font-size="14" font-weight="700" fill="{INK}">'
           f'{escape(partners_heading)} ({len(partners)})</text>',
           f'<text x="{ARC_SPACE + BOX_W + GAP}" y="22" font-size="14" font-weight="700" fill="{INK}">'
           f'{escape(groups_heading)} ({len(groups)})</text>']

    # Each sentence translated once (gettext without values gives the pattern), filled in per line.
    t_met = _("%(a)s i %(b)s: wspólne spotkania: %(n)d")
    t_animates = _("CIL animuje grupę %(group)s")
    t_log = _("CIL i %(partner)s: wpisy współpracy: %(n)d")
    t_supports = _("%(partner)s wspiera grupę %(group)s")
    edges = []
    # Arcs between partners that met at the same meetings, on the left of the partner column.
    for (a, b), n in sorted(net.partner_partner.items()):
        if a in by_partner and b in by_partner:
            pa, pb = by_partner[a], by_partner[b]
            bulge = min(ARC_SPACE - 8, 18 + abs(pb.mid - pa.mid) * 0.35)
            x = pa.x
            width = 1.5 + min(n, 6) * 0.5
            edges.append(f'<path d="M{x:.1f},{pa.mid:.1f} C{x - bulge:.1f},{pa.mid:.1f} {x - bulge:.1f},{pb.mid:.1f} '
                         f'{x:.1f},{pb.mid:.1f}" fill="none" stroke="{BLUE}" stroke-width="{width:.1f}">'
                         + _title(t_met % {"a": pa.name, "b": pb.name, "n": n}) + "</path>")
    # The centre and each group it animates.
    for g in groups:
        edges.append(f'<path d="{_curve(cx, cy, g.x, g.mid)}" fill="none" stroke="{GREY}" stroke-width="1.2">'
                     + _title(t_animates % {"group": g.name}) + "</path>")
    # The centre and each partner: the cooperation log.
    for p in partners:
        n = net.centre_partner.get(p.id, 0)
        dash = ' stroke-dasharray="5 4"' if n == 0 else ""
        edges.append(f'<path d="{_curve(cx, cy, p.x + BOX_W, p.mid)}" fill="none" stroke="{GREEN}" '
                     f'stroke-width="{1.5 + min(n, 8) * 0.5:.1f}"{dash}>'
                     + _title(t_log % {"partner": p.name, "n": n}) + "</path>")
    # A partner and a group it supports.
    for (pid, gid), n in sorted(net.partner_group.items()):
        if pid in by_partner and gid in by_group:
            p, g = by_partner[pid], by_group[gid]
            edges.append(f'<path d="{_curve(p.x + BOX_W, p.mid, g.x, g.mid)}" fill="none" stroke="{AMBER}" '
                         f'stroke-width="{2 + min(n, 6) * 0.6:.1f}">'
                         + _title(t_supports % {"partner": p.name, "group": g.name}) + "</path>")
    out.append('<g class="edges">' + "".join(edges) + "</g>")

    nodes = []
    for node in partners + groups:
        fill, stroke = ("#e6f4ec", GREEN) if node.kind == "partner" else ("#fff3d6", AMBER)
        nodes.append(
            f'<a href="{escape(node.href)}">{_title(node.name)}'
            f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"/>'
            f'<text x="{node.x + 10:.1f}" y="{node.y + 17:.1f}" font-size="13" font-weight="600" fill="{INK}">'
            f'{escape(_short(node.name))}</text>'
            f'<text x="{node.x + 10:.1f}" y="{node.y + 33:.1f}" font-size="12" fill="{MUTED}">'
            f'{escape(_short(node.sub, size=12, bold=False))}</text></a>')
    lines = _wrap(net.centre_name)
    label_y = cy + 40
    nodes.append(f'<g class="centre">{_title(net.centre_name)}'
                 f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="26" fill="{GREEN}" stroke="#fff" stroke-width="4"/>'
                 f'<text x="{cx:.1f}" y="{cy + 5:.1f}" font-size="13" font-weight="700" fill="#fff" '
                 f'text-anchor="middle">CIL</text>'
                 f'<rect x="{cx - GAP / 2 + 4:.1f}" y="{label_y - 15:.1f}" width="{GAP - 8}" '
                 f'height="{len(lines) * 16 + 6}" rx="6" fill="#fff" fill-opacity="0.9"/>'
                 + "".join(f'<text x="{cx:.1f}" y="{label_y + i * 16:.1f}" font-size="13" font-weight="600" '
                           f'fill="{INK}" text-anchor="middle">{escape(line)}</text>' for i, line in enumerate(lines))
                 + "</g>")
    out.append('<g class="nodes">' + "".join(nodes) + "</g></svg>")
    return Markup("".join(out))


def describe(net) -> list[dict]:
    """The same network as text, partner by partner: for screen readers, and for a list under the picture."""
    groups = {gid: name for gid, name, _stage in net.groups}
    names = {p.id: p.name for p in net.partners}
    rows = []
    for p in net.partners:
        rows.append({
            "partner": p,
            "cooperations": net.centre_partner.get(p.id, 0),
            "groups": sorted(groups[g] for (pid, g) in net.partner_group if pid == p.id and g in groups),
            "met_with": sorted((names[b if a == p.id else a], n) for (a, b), n in net.partner_partner.items()
                               if p.id in (a, b) and a in names and b in names),
        })
    return rows
