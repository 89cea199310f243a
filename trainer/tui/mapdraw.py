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
    grid.put(x + 1, y, label, line, limit=w - 2)


def draw_map(
    workshop: WorkshopMap,
    variables: Mapping[str, Value],
    lang: str,
    *,
    position: str | None = None,
    people: tuple[str, ...] = (),
) -> Text:
    """The map as Text, `workshop.height` lines of `workshop.width` cells."""
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
    for zone_id, symbol, style in [(position, TRAINEE, Style(color="bright_cyan", bold=True, reverse=True))] + [
        (p, PERSON, Style(color="bright_magenta", bold=True, reverse=True)) for p in people
    ]:
        zone = workshop.zone(zone_id) if zone_id else None
        if zone is None:
            continue
        cx = min(zone.x + max(zone.width // 2, 1) - (1 if symbol == PERSON else 0), workshop.width - 1)
        cy = min(zone.y + max(zone.height // 2, 0), workshop.height - 1)
        # Never hide a machine's symbol or another person: step right to the next free cell inside the zone.
        while not grid.free(cx, cy, 1) and cx + 1 < min(zone.x + zone.width - 1, workshop.width):
            cx += 1
        grid.put(cx, cy, symbol, style)
    return grid.text()


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
