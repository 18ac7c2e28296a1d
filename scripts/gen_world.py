#!/usr/bin/env python3
"""Projects the vendored world-atlas country shapes into SVG paths for the explorer's maps.

Reads assets/explorer/world-atlas/countries-50m.json (TopoJSON, Natural Earth 1:50m) and
data/countries/countries.csv (ISO numeric -> alpha-3), writes assets/explorer/world.tsv:
one line per country, `code<TAB>name<TAB>path<TAB>marker`, where the path is in a
960 x 424 viewBox (Natural Earth projection, Antarctica left out) and marker is `x,y` for a
country too small to see at that size (the map draws a dot there), else empty.
`--check` compares instead of writing, for CI.
"""

import csv
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assets/explorer/world-atlas/countries-50m.json"
COUNTRIES = ROOT / "data/countries/countries.csv"
TARGET = ROOT / "assets/explorer/world.tsv"

WIDTH, HEIGHT = 960, 424
SOUTH, NORTH = -58.0, 84.0
# Areas below this (in square viewBox units) also get a dot.
SMALL = 40.0


def natural_earth(lon, lat):
    """The Natural Earth projection (Šavrič, Jenny, Patterson, Petrovič, Hurni 2011)."""
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


X_MAX = natural_earth(180, 0)[0]
Y_TOP = natural_earth(0, NORTH)[1]
Y_BOTTOM = natural_earth(0, SOUTH)[1]
SCALE = min(WIDTH / (2 * X_MAX), HEIGHT / (Y_TOP - Y_BOTTOM))


def to_view(lon, lat):
    x, y = natural_earth(lon, max(SOUTH, min(NORTH, lat)))
    return (WIDTH / 2 + x * SCALE, (Y_TOP - y) * SCALE)


def decode_arcs(topology):
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(ring, arcs):
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def unwrap(points):
    """A ring that crosses the antimeridian is clamped to the side most of it lies on."""
    if not any(abs(a[0] - b[0]) > 180 for a, b in zip(points, points[1:])):
        return points
    east = sum(1 for lon, _ in points if lon > 0) * 2 > len(points)
    edge = 180.0 if east else -180.0
    return [(edge if (lon < 0) == east else lon, lat) for lon, lat in points]


def ring_path(points):
    """Half viewBox units, relative after the first point; points that round together
    are one, which is all the simplifying a map this size needs."""
    out, last = [], None
    for lon, lat in unwrap(points):
        x, y = to_view(lon, lat)
        here = (round(x * 2), round(y * 2))
        if here != last:
            out.append(here)
            last = here
    if len(out) < 3:
        return "", out
    path = [f"M{out[0][0] / 2:g},{out[0][1] / 2:g}"]
    for (x0, y0), (x1, y1) in zip(out, out[1:]):
        path.append(f"l{(x1 - x0) / 2:g},{(y1 - y0) / 2:g}".replace(",-", "-"))
    return "".join(path) + "z", out


def polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def render():
    topology = json.loads(SOURCE.read_text())
    arcs = decode_arcs(topology)
    alpha3 = {}
    with COUNTRIES.open(newline="") as f:
        for row in csv.DictReader(f):
            alpha3[row["numeric"]] = row["iso3"]
    names, shapes = {}, {}
    with COUNTRIES.open(newline="") as f:
        for row in csv.DictReader(f):
            names[row["iso3"]] = row["name"]
    # A country's overseas parts may be shapes of their own under its code.
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = alpha3.get(geometry.get("id", ""))
        if code is None or code == "ATA":
            continue
        parts, points = shapes.setdefault(code, ([], []))
        for polygon in polygons(geometry):
            for ring in polygon:
                path, ring_out = ring_path(ring_points(ring, arcs))
                parts.append(path)
                points.extend(ring_out)
    lines = []
    for code, (parts, points) in shapes.items():
        if not points:
            continue
        xs = [x / 2 for x, _ in points]
        ys = [y / 2 for _, y in points]
        small = (max(xs) - min(xs)) * (max(ys) - min(ys)) < SMALL
        marker = f"{(min(xs) + max(xs)) / 2:.1f},{(min(ys) + max(ys)) / 2:.1f}" if small else ""
        lines.append(f"{code}\t{names[code]}\t{''.join(parts)}\t{marker}")
    lines.sort()
    return "\n".join(lines) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if TARGET.read_text() != text:
            sys.exit(f"{TARGET.relative_to(ROOT)} is stale: run python3 scripts/gen_world.py")
        return
    TARGET.write_text(text)


if __name__ == "__main__":
    main()
