"""Draw a course's workshop map as rich Text: zones as boxes, machines with their energy state, the trainee, hazards.

Pure (rich only), so it is tested without a running app. Every state is shown by a symbol AND a colour, never by colour
alone; wide Chinese characters take two cells and are placed so that nothing shifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from trainer.course.conditions import Value
from trainer.course.model import Machine, WorkshopMap, Zone


class Energy(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    LOCKED = "locked"


SYMBOL = {Energy.RUNNING: "<R>", Energy.STOPPED: "[S]", Energy.LOCKED: "[L]"}
STYLE = {
    Energy.RUNNING: Style(color="white", bgcolor="red", bold=True),
    Energy.STOPPED: Style(color="black", bgcolor="yellow"),
    Energy.LOCKED: Style(color="black", bgcolor="green", bold=True),
}
HAZARD_FILL = "░"
_BACKGROUND = (" ", HAZARD_FILL)  # cells a label or a person may be drawn over
TRAINEE = "@"
PERSON = "!"
_ZONE_STYLE = {
    "hazard": Style(color="red"),
    "exit": Style(color="green"),
    "assembly": Style(color="green"),
    "walkway": Style(color="bright_black"),
    "area": Style(color="cyan"),
}


def energy_of(machine: Machine, variables: Mapping[str, Value]) -> Energy:
    if machine.locked is not None and machine.locked(variables):
        return Energy.LOCKED
    return Energy.RUNNING if machine.running(variables) else Energy.STOPPED


@dataclass
class _Grid:
    width: int
    height: int

    def __post_init__(self) -> None:
        self.cells: list[list[tuple[str, Style | None]]] = [[(" ", None)] * self.width for _ in range(self.height)]

    def put(self, x: int, y: int, text: str, style: Style | None = None, limit: int | None = None) -> None:
        """Write text from (x, y); a wide character fills two cells (the second is an empty placeholder)."""
        end = min(self.width, x + limit) if limit is not None else self.width
        for ch in text:
            w = cell_len(ch)
            if y < 0 or y >= self.height or x < 0 or x + w > end:
                return
            self.cells[y][x] = (ch, style)
            if w == 2:
                self.cells[y][x + 1] = ("", style)
            x += w

    def free(self, x: int, y: int, width: int) -> bool:
        return (
            0 <= y < self.height
            and x >= 0
            and x + width <= self.width
            and all(self.cells[y][i][0] in _BACKGROUND for i in range(x, x + width))
        )

    def text(self) -> Text:
        out = Text()
        for i, row in enumerate(self.cells):
            for ch, style in row:
                if ch:
                    out.append(ch, style)
            if i < self.height - 1:
                out.append("\n")
        return out


def _box(grid: _Grid, zone: Zone, label: str, style: Style, highlight: bool) -> None:
    x, y, w, h = zone.x, zone.y, zone.width, zone.height
    if w < 2 or h < 2:
        grid.put(x, y, label[: max(w, 1)], style)
        return
    line = Style.combine([style, Style(bold=True)]) if highlight else style
    grid.put(x, y, "┌" + "─" * (w - 2) + "┐", line)
    for row in range(y + 1, y + h - 1):
        grid.put(x, row, "│", line)
        grid.put(x + w - 1, row, "│", line)
        if zone.kind == "hazard":
            grid.put(x + 1, row, HAZARD_FILL * (w - 2), Style(color="red", dim=True))
    grid.put(x, y + h - 1, "└" + "─" * (w - 2) + "┘", line)
    # A label longer than the top edge goes on in the box (Isolation & / valves), by whole words where it can,
    # ending in … only when the box has no row left for it.
    rows = _label_lines(label, w - 2, 1 + max(h - 2, 0))
    grid.put(x + 1, y, rows[0], line, limit=w - 2)
    for n, rest in enumerate(rows[1:], start=1):
        grid.put(x + 1, y + n, rest, style, limit=w - 2)


def _label_lines(label: str, width: int, most: int) -> list[str]:
    """`label` in at most `most` lines of `width` cells: broken at spaces (or anywhere in a long word or in Chinese),
    the last line ending in … if the label does not fit."""
    if width <= 0:
        return [""]
    from trainer.tui.linebreak import lines

    out = lines(label, width)
    if len(out) > most:
        out = out[:most]
        last = out[-1]
        while last and cell_len(last) + 1 > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def draw_map(
    workshop: WorkshopMap,
    variables: Mapping[str, Value],
    lang: str,
    *,
    position: str | None = None,
    people: tuple[str, ...] = (),
    named: tuple[tuple[str, str], ...] = (),
) -> Text:
    """The map as Text, `workshop.height` lines of `workshop.width` cells. `people`: zones where a random event's
    person or vehicle is; `named`: (zone, name) of the people the state's scene mentions (course format `people`),
    drawn with their name beside the mark where there is room."""
    grid = _Grid(workshop.width, workshop.height)
    for zone in workshop.zones:
        label = zone.label.get(lang)
        _box(grid, zone, label, _ZONE_STYLE.get(zone.kind, _ZONE_STYLE["area"]), zone.id == position)
    for machine in workshop.machines:
        energy = energy_of(machine, variables)
        grid.put(machine.x, machine.y, SYMBOL[energy], STYLE[energy])
    for machine in workshop.machines:
        # The machine's name beside its symbol where the space is free, so two trucks can be told apart.
        name = machine.label.get(lang)
        x = machine.x + len(SYMBOL[Energy.RUNNING]) + 1
        if grid.free(x - 1, machine.y, cell_len(name) + 2):
            grid.put(x, machine.y, name, Style(dim=True))
    person = Style(color="bright_magenta", bold=True, reverse=True)
    marks = [(position, TRAINEE, Style(color="bright_cyan", bold=True, reverse=True), "")]
    marks += [(p, PERSON, person, "") for p in people] + [(zone, PERSON, person, name) for zone, name in named]
    for zone_id, symbol, style, name in marks:
        place = workshop.zone(zone_id) if zone_id else None
        if place is None:
            continue
        spot = _room_for(grid, place, 2 + cell_len(name)) if name else None
        if spot is not None:  # a named person: the mark and the name together, inside the zone
            grid.put(spot[0], spot[1], symbol, style)
            grid.put(spot[0] + 2, spot[1], name, Style(color="bright_magenta"))
            continue
        cx = min(place.x + max(place.width // 2, 1) - (1 if symbol == PERSON else 0), workshop.width - 1)
        cy = min(place.y + max(place.height // 2, 0), workshop.height - 1)
        # Never hide a machine's symbol or another person: step right to the next free cell inside the zone.
        while not grid.free(cx, cy, 1) and cx + 1 < min(place.x + place.width - 1, workshop.width):
            cx += 1
        grid.put(cx, cy, symbol, style)
    return grid.text()


def _room_for(grid: _Grid, zone: Zone, width: int) -> tuple[int, int] | None:
    """The free place for `width` cells inside `zone` nearest its middle row and column, or None."""
    rows = range(zone.y + 1, zone.y + zone.height - 1) if zone.height > 2 else range(zone.y, zone.y + 1)
    middle_row, middle_col = zone.y + zone.height // 2, zone.x + (zone.width - width) // 2
    places = [(x, y) for y in rows for x in range(zone.x + 1, zone.x + zone.width - width) if grid.free(x, y, width)]
    return min(places, key=lambda p: (abs(p[1] - middle_row), abs(p[0] - middle_col)), default=None)


def legend(lang: str) -> Text:
    words = {
        "zh": ("运行", "停止", "已上锁", "你", "他人", "危险区"),
        "en": ("running", "stopped", "locked out", "you", "other person", "hazard"),
    }[lang if lang in ("zh", "en") else "en"]
    out = Text()
    for energy, word in zip(Energy, words[:3], strict=True):
        out.append(SYMBOL[energy], STYLE[energy])
        out.append(f" {word}  ")
    out.append(TRAINEE, Style(color="bright_cyan", bold=True, reverse=True))
    out.append(f" {words[3]}  ")
    out.append(PERSON, Style(color="bright_magenta", bold=True, reverse=True))
    out.append(f" {words[4]}  ")
    out.append("░", Style(color="red"))
    out.append(f" {words[5]}")
    return out
