"""A map of Poznań's 42 osiedla as inline SVG, coloured by a figure (a choropleth), with no map tiles.

The outlines come from app/data/poznan-osiedla.geojson (© OpenStreetMap contributors, ODbL 1.0; the
page shows the attribution under the map, app/data/README.md says more). They are read once per
process, projected (equirectangular, scaled by the cosine of Poznań's latitude, which is exact
enough for a city), simplified (Douglas–Peucker, about one unit of a 600-unit wide map) and kept
in memory as SVG path data: a few kilobytes instead of the file's 244 KB.

Colours: osiedla with nothing to count are grey; the others fall into up to five classes of about
the same size (quantiles of the non-zero values), light to dark green. Every osiedle has a <title>
with its name and value; the legend says the range of each class.
"""
import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.config import PROJECT_ROOT
from app.templating import fmt_number

GEOJSON = PROJECT_ROOT / "app" / "data" / "poznan-osiedla.geojson"
OSIEDLA_CSV = PROJECT_ROOT / "app" / "data" / "poznan_osiedla.csv"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
ATTRIBUTION_URL = "https://www.openstreetmap.org/copyright"
WIDTH = 600
TOLERANCE = 0.6  # map units (1 unit is about 40 m)
# Names OpenStreetMap uses for two osiedla (../shared/data/README.md).
OSM_ALIASES = {"Łazarz": "Św. Łazarz", "Piątkowo Północ": "Jana III Sobieskiego i Marysieńki"}
ZERO = "#e3e6e1"
CLASSES = ["#d9f0d3", "#a6dba0", "#5aae61", "#1b7837", "#00441b"]
CLASS_TEXT = ["#1d232a", "#1d232a", "#fff", "#fff", "#fff"]


@dataclass(frozen=True)
class Outline:
    slug: str
    name: str
    d: str  # SVG path data
    cx: float  # a point inside, for a label
    cy: float


@dataclass(frozen=True)
class Shapes:
    width: int
    height: int
    outlines: tuple  # (Outline, ...), by name


def _simplify(points: list, tolerance: float) -> list:
    """Douglas–Peucker on an open polyline, iterative (no recursion limit on long outlines)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        best, index = -1.0, a
        for i in range(a + 1, b):
            px, py = points[i]
            d = abs(dy * px - dx * py + bx * ay - by * ax) / length if length else math.hypot(px - ax, py - ay)
            if d > best:
                best, index = d, i
        if best > tolerance:
            keep[index] = True
            stack += [(a, index), (index, b)]
    return [p for p, k in zip(points, keep) if k]


def _path(ring: list) -> str:
    """Absolute first point, then relative moves in whole units: the shortest text for the shape."""
    pts = []
    for x, y in ring:
        p = (round(x), round(y))
        if not pts or pts[-1] != p:
            pts.append(p)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    moves = " ".join(f"{x - px} {y - py}" for (px, py), (x, y) in zip(pts, pts[1:]))
    return f"M{pts[0][0]} {pts[0][1]}l{moves}z"


@lru_cache(maxsize=1)
def shapes() -> Shapes | None:
    """The projected, simplified outlines of the osiedla (None when the GeoJSON file is missing)."""
    if not GEOJSON.exists():
        return None
    with OSIEDLA_CSV.open(encoding="utf-8") as fh:
        slug_of = {row["name"]: row["slug"] for row in csv.DictReader(fh)}
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    rings = {}
    for feature in data["features"]:
        name = feature["properties"]["name"]
        name = OSM_ALIASES.get(name, name)
        if name in slug_of and feature["geometry"]["type"] == "Polygon":
            rings[name] = feature["geometry"]["coordinates"][0]
    points = [p for ring in rings.values() for p in ring]
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    cos = math.cos(math.radians((min_lat + max_lat) / 2))
    scale = WIDTH / ((max_lon - min_lon) * cos)
    height = math.ceil((max_lat - min_lat) * scale)
    outlines = []
    for name, ring in sorted(rings.items()):
        xy = [((lon - min_lon) * cos * scale, (max_lat - lat) * scale) for lon, lat in ring]
        half = len(xy) // 2  # a closed ring is simplified as two open halves
        simple = _simplify(xy[:half + 1], TOLERANCE)[:-1] + _simplify(xy[half:], TOLERANCE)
        cx = sum(x for x, _y in xy) / len(xy)
        cy = sum(y for _x, y in xy) / len(xy)
        outlines.append(Outline(slug_of[name], name, _path(simple), cx, cy))
    return Shapes(WIDTH, height, tuple(outlines))


def classes(values: list) -> list[tuple]:
    """Up to five (low, high) ranges of the non-zero values, by natural breaks (Fisher–Jenks: the
    split with the least spread inside the classes) of their logarithms, so that a class never
    straddles a big gap, such as the one between an osiedle with its own centre and the rest, and
    small values are told apart as well as big ones."""
    nonzero = sorted(math.log(float(v)) for v in values if v and v > 0)
    distinct = sorted(set(nonzero))
    if not distinct:
        return []
    k = min(len(CLASSES), len(distinct))
    n = len(nonzero)
    prefix, prefix2 = [0.0], [0.0]
    for v in nonzero:
        prefix.append(prefix[-1] + v)
        prefix2.append(prefix2[-1] + v * v)

    def spread(i: int, j: int) -> float:  # of nonzero[i:j]
        total = prefix[j] - prefix[i]
        return prefix2[j] - prefix2[i] - total * total / (j - i)

    # cost[c][j]: the least spread of nonzero[:j] in c classes; cut[c][j]: where the last class starts
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                if cost[c - 1][i] < inf and (i == 0 or nonzero[i] != nonzero[i - 1]):
                    value = cost[c - 1][i] + spread(i, j)
                    if value < cost[c][j]:
                        cost[c][j], cut[c][j] = value, i
    c = max(m for m in range(1, k + 1) if cost[m][n] < inf)
    bounds, j = [], n
    for m in range(c, 0, -1):
        i = cut[m][j]
        bounds.append((i, j))
        j = i
    original = {math.log(float(v)): v for v in values if v and v > 0}
    return [(original[nonzero[i]], original[nonzero[j - 1]]) for i, j in reversed(bounds)]


def colour(value, ranges) -> int | None:
    """The class index of `value` (None for zero)."""
    if not value:
        return None
    for i, (_low, high) in enumerate(ranges):
        if value <= high:
            return i
    return len(ranges) - 1


@dataclass
class MapPicture:
    svg: Markup
    legend: list  # [(fill, text)]


def choropleth(values: dict, measure_label: str) -> MapPicture | None:
    """The map with each osiedle (by slug in `values`) coloured by its value; None without the GeoJSON."""
    geo = shapes()
    if geo is None:
        return None
    ranges = classes(list(values.values()))
    body = []
    for o in geo.outlines:
        v = values.get(o.slug, 0)
        c = colour(v, ranges)
        fill = ZERO if c is None else CLASSES[c]
        tip = f"{o.name}: {fmt_number(v)}"
        body.append(f'<path d="{o.d}" fill="{fill}" stroke="#fff" stroke-width="1.2" stroke-linejoin="round">'
                    f"<title>{escape(tip)}</title></path>")
    title = _("Mapa osiedli Poznania: %(measure)s", measure=measure_label)
    desc = _("Im ciemniejszy kolor, tym więcej; szare osiedla: zero. Wartość każdego osiedla jest w jego "
             "podpisie i w tabeli osiedli poniżej.")
    svg = Markup(f'<svg class="map-svg" viewBox="0 0 {geo.width} {geo.height}" role="img" '
                 f'aria-labelledby="map-title map-desc" focusable="false"><title id="map-title">{escape(title)}</title>'
                 f'<desc id="map-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")
    legend = [(ZERO, "0")]
    for i, (low, high) in enumerate(ranges):
        text = fmt_number(low) if low == high else f"{fmt_number(low)}–{fmt_number(high)}"
        legend.append((CLASSES[i], text))
    return MapPicture(svg, legend)
