"""The dashboard's charts: pygal SVG rendered on the server and put inline in the page.

pygal adds an inline script for its tooltips; the app's Content-Security-Policy forbids
inline scripts, so it is taken out and the charts stay plain, readable pictures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pygal
from markupsafe import Markup
from pygal.etree import etree
from pygal.graph.graph import Graph
from pygal.style import Style

from bot.queue.stats import AGE_BUCKETS

T = TypeVar("T")


@dataclass(frozen=True)
class Figure:
    """A chart and the same numbers as a table, for screen readers and for copying."""

    svg: Markup
    columns: list[str]
    rows: list[list[str]]


# One colour per department, the same in every chart (by the department's place in the list).
PALETTE = ("#154273", "#e17000", "#39870c", "#a90061", "#007bc7", "#673327", "#8fcae7")
_STYLE = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#1a1a1a",
    "foreground_strong": "#1a1a1a",
    "foreground_subtle": "#666666",
    "opacity": "0.9",
    "opacity_hover": "1",
    "font_family": "system-ui, sans-serif",
    "label_font_size": 12,
    "major_label_font_size": 12,
    "legend_font_size": 13,
    "title_font_size": 15,
    "value_font_size": 12,
    "no_data_font_size": 18,
}
_CONFIG = {
    "js": [],
    "disable_xml_declaration": True,
    "width": 620,
    "height": 330,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "truncate_label": -1,
    "truncate_legend": -1,
    "no_data_text": "Nog geen gegevens",
    "print_zeroes": False,
}


def requests_per_week(
    weeks: list[date], per_department: dict[str, list[int]], names: dict[str, str]
) -> Figure:
    labels = [week.strftime("%d-%m") for week in weeks]
    title = "Nieuwe aanvragen per week (vanaf maandag)"
    return _stacked(title, labels, per_department, names)


def open_by_age(per_department: dict[str, list[int]], names: dict[str, str]) -> Figure:
    labels = [label for label, _ in AGE_BUCKETS]
    title = "Open aanvragen naar leeftijd in werkdagen"
    return _stacked(title, labels, per_department, names)


def first_response(hours: dict[str, float], names: dict[str, str]) -> Figure:
    series = _series(hours, names)
    chart = pygal.HorizontalBar(
        title="Tijd tot eerste reactie (mediaan, uren)",
        formatter=_hours,
        print_values=True,
        **_options(series),
    )
    for name, _, value in series:
        chart.add(name, round(value, 1))
    rows = [[name, _hours(value)] for name, _, value in series]
    return Figure(_svg(chart), ["Afdeling", "Mediaan"], rows)


def within_sla(shares: dict[str, tuple[int, int]], names: dict[str, str]) -> Figure:
    series = _series(shares, names)
    chart = pygal.Bar(
        title="Afgehandeld binnen de termijn",
        range=(0, 100),
        formatter=_percent,
        value_formatter=_percent,
        print_values=True,
        **_options(series),
    )
    rows = []
    for name, _, (on_time, closed) in series:
        share = 100 * on_time / closed
        chart.add(name, share)
        rows.append([name, str(on_time), str(closed), _percent(share)])
    return Figure(_svg(chart), ["Afdeling", "Op tijd", "Afgesloten", "Aandeel"], rows)


def _stacked(
    title: str, labels: list[str], per_department: dict[str, list[int]], names: dict[str, str]
) -> Figure:
    """Counts per label, one stacked colour per department."""
    series = _series(per_department, names)
    chart = pygal.StackedBar(title=title, **_options(series))
    chart.x_labels = labels
    if series:
        # pygal sets up its axes only when a series is added: y-labels on an empty chart
        # fail in rendering (StackedBar has no `_adapt` then); an empty chart says so instead.
        totals = [sum(column) for column in zip(*per_department.values(), strict=True)]
        chart.y_labels = _whole_numbers(max(totals))
    for name, _, counts in series:
        chart.add(name, counts)
    rows = [[name, *map(str, counts)] for name, _, counts in series]
    return Figure(_svg(chart), ["Afdeling", *labels], rows)


def _series(values: dict[str, T], names: dict[str, str]) -> list[tuple[str, str, T]]:
    """(department name, its colour, value) in alphabetical order. The colour follows the
    department's place among all departments, so it is the same in every chart."""
    everyone = sorted(names.values(), key=str.lower)
    rows = sorted(
        ((names.get(key, key), value) for key, value in values.items()),
        key=lambda pair: pair[0].lower(),
    )
    return [
        (
            name,
            PALETTE[everyone.index(name) % len(PALETTE)] if name in everyone else "#666666",
            value,
        )
        for name, value in rows
    ]


def _options(series: list[tuple[str, str, T]]) -> dict[str, Any]:
    return {**_CONFIG, "style": Style(colors=tuple(colour for _, colour, _ in series), **_STYLE)}


def _whole_numbers(highest: int) -> list[int]:
    """Axis ticks for counts: whole numbers only, about five of them."""
    step = max(1, -(-highest // 5))
    return list(range(0, highest + step, step))


def _hours(value: float) -> str:
    return f"{value:.1f} uur".replace(".", ",")


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _svg(chart: Graph) -> Markup:
    """The chart as an inline <svg>, without pygal's script, labelled for screen readers.
    pygal escapes every text it writes, so the result is safe to put in the page."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    tree.set("role", "img")
    tree.set("aria-label", str(chart.config.title))
    return Markup(etree.tostring(tree, encoding="unicode"))
