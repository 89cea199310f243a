"""Checks that need the whole course: references between states, actions, variables, the map and the procedure.

Runs on the spec-checked plain data so that every problem points at the exact place it was written.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from trainer.course.conditions import ConditionError, parse_condition
from trainer.course.limits import LABEL_MAX_CELLS, MAP_MAX_HEIGHT, MAP_MAX_WIDTH
from trainer.course.spec import Checker
from trainer.course.yamlsource import Path_


def _hint(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "text"


def _yaml(value: Any) -> str:
    """A value as the course file writes it (true, not Python's True)."""
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class _Semantics:
    def __init__(self, data: dict[str, Any], ck: Checker):
        # Parts of the wrong type were reported by the format checks; here they simply count as absent.
        self.data = data
        self.ck = ck
        self.states = _dict(data.get("states"))
        self.variables = _dict(data.get("variables"))
        zones = _list(_dict(data.get("map")).get("zones"))
        self.zones = {z["id"] for z in zones if isinstance(z, dict) and isinstance(z.get("id"), str)}
        # Each goto to a missing state, by target, in the order met: the index of its error in ck.diagnostics and the
        # state it most likely meant (None: no close match). The graph check groups its consequences under it.
        self.broken: dict[str, tuple[int, str | None]] = {}
        self.read: set[str] = set()  # variables some condition reads

    def run(self, shape_ok: bool) -> None:
        checks: list[Callable[[], None]] = [self.check_start]
        checks += [partial(self.check_state, sid, st) for sid, st in self.states.items()]
        checks += [partial(self.check_event, i, ev) for i, ev in enumerate(_list(self.data.get("random_events")))]
        checks += [
            self.check_hidden,
            self.check_procedure,
            self.check_map,
            self.check_inventory,
            self.check_graph,
            self.check_instead,
            self.check_unread,
            self.check_labels,
        ]
        for check in checks:
            try:
                check()
            except (KeyError, TypeError, AttributeError, ValueError, IndexError):
                # The part is malformed and its shape error is already reported; its references cannot be followed.
                if shape_ok:
                    raise

    def check_hidden(self) -> None:
        """A hidden fault names a declared variable and values of its type, its declared value among them (what the
        checker and the tester start from), each value once."""
        for name, values in _dict(self.data.get("hidden")).items():
            path: Path_ = ("hidden", name)
            if name not in self.variables:
                self.ck.error(
                    path,
                    f"hidden: unknown variable {name!r}; declare it under variables{_hint(name, self.variables)}",
                    at_key=True,
                )
                continue
            declared = self.variables[name]
            seen: list[Any] = []
            for i, value in enumerate(_list(values)):
                if _type_name(value) != _type_name(declared):
                    self.ck.error(
                        (*path, i),
                        f"hidden: {name!r} holds {_type_name(declared)} but may start as {_type_name(value)} {value!r}",
                    )
                elif value in seen:
                    self.ck.error((*path, i), f"hidden: {name!r} lists the value {_yaml(value)} twice")
                seen.append(value)
            if isinstance(values, list) and declared not in values:
                self.ck.error(
                    path,
                    f"hidden: {name!r} is declared {_yaml(declared)} under variables; list that value among its "
                    "start values too",
                )

    # --- references --------------------------------------------------------------------------------------------
    def check_goto(self, target: str, path: Path_) -> None:
        if target not in self.states:
            if isinstance(target, str) and target not in self.broken:
                close = difflib.get_close_matches(target, list(self.states), n=1, cutoff=0.6)
                self.broken[target] = (len(self.ck.diagnostics), close[0] if close else None)
            self.ck.error(path, f"goto {target!r}: there is no such state{_hint(target, self.states)}")

    def check_condition(self, source: str, path: Path_) -> None:
        try:
            cond = parse_condition(source)
        except ConditionError as exc:
            self.ck.error(path, f"condition {source!r}: {exc}")
            # Its names count as read: "never read" would be a consequence of this error, not news.
            self.read |= set(re.findall(r"[A-Za-z_]\w*", source))
            return
        self.read |= cond.variables
        for name in sorted(cond.variables - set(self.variables)):
            self.ck.error(
                path, f"condition {source!r} names the unknown variable {name!r}{_hint(name, self.variables)}"
            )

    def check_set(self, values: dict[str, Any], path: Path_) -> None:
        for name, value in values.items():
            if name not in self.variables:
                self.ck.error(
                    (*path, name),
                    f"set: unknown variable {name!r}; declare it under variables{_hint(name, self.variables)}",
                    at_key=True,
                )
            elif _type_name(value) != _type_name(self.variables[name]):
                self.ck.error(
                    (*path, name),
                    f"set: {name!r} holds {_type_name(self.variables[name])} but is set to {_type_name(value)} {value!r}",
                )

    def check_zone(self, zone: str, path: Path_) -> None:
        if not self.zones:
            self.ck.error(path, f"zone {zone!r} named but the course has no map with zones")
        elif zone not in self.zones:
            self.ck.error(path, f"there is no map zone {zone!r}{_hint(zone, self.zones)}")

    def check_actions(self, actions: list[dict[str, Any]], path: Path_) -> None:
        seen: dict[str, int] = {}
        for i, action in enumerate(actions):
            apath = (*path, i)
            aid = action["id"]
            if aid in seen:
                self.ck.error((*apath, "id"), f"duplicate action id {aid!r} (also item {seen[aid] + 1} of this list)")
            seen.setdefault(aid, i)
            if "goto" in action:
                self.check_goto(action["goto"], (*apath, "goto"))
            if "when" in action:
                self.check_condition(action["when"], (*apath, "when"))
            if "set" in action:
                self.check_set(action["set"], (*apath, "set"))

    def check_start(self) -> None:
        start = self.data.get("start")
        if isinstance(start, str) and start not in self.states:
            self.ck.error(("start",), f"start {start!r}: there is no such state{_hint(start, self.states)}")

    def check_state(self, sid: str, state: dict[str, Any]) -> None:
        path: Path_ = ("states", sid)
        text = state.get("text")
        if isinstance(text, list):
            for i, block in enumerate(text):
                if isinstance(block, dict) and isinstance(block.get("when"), str):
                    self.check_condition(block["when"], (*path, "text", i, "when"))
        if "reading_s" in state and "timer" not in state:
            self.ck.warning((*path, "reading_s"), f"state {sid!r} has reading_s but no timer: it changes nothing")
        actions = state.get("actions") or []
        if "outcome" in state:
            if actions:
                self.ck.error(
                    (*path, "actions"), f"state {sid!r} has an outcome, so it ends the session: it cannot have actions"
                )
            if "timer" in state:
                self.ck.error(
                    (*path, "timer"), f"state {sid!r} has an outcome, so it ends the session: it cannot have a timer"
                )
        elif not actions and "timer" not in state:
            self.ck.error(
                path, f"state {sid!r} has no actions, no timer and no outcome: the trainee would be stuck", at_key=True
            )
        if "incident" in state and state.get("outcome") != "incident":
            self.ck.error((*path, "incident"), "incident text belongs only to a state with outcome: incident")
        self.check_actions(actions, (*path, "actions"))
        if "timer" in state:
            self.check_goto(state["timer"]["goto"], (*path, "timer", "goto"))
            if "set" in state["timer"]:
                self.check_set(state["timer"]["set"], (*path, "timer", "set"))
        if "position" in state:
            self.check_zone(state["position"], (*path, "position"))
        for i, person in enumerate(state.get("people") or ()):
            self.check_zone(person["at"], (*path, "people", i, "at"))

    def check_event(self, i: int, event: dict[str, Any]) -> None:
        path: Path_ = ("random_events", i)
        for j, sid in enumerate(event["states"]):
            if sid not in self.states:
                self.ck.error(
                    (*path, "states", j),
                    f"random event {event['id']!r}: there is no state {sid!r}{_hint(sid, self.states)}",
                )
            elif "outcome" in self.states[sid]:
                self.ck.error(
                    (*path, "states", j), f"random event {event['id']!r} cannot happen in the terminal state {sid!r}"
                )
        self.check_actions(event["actions"], (*path, "actions"))
        if "set" in event:
            self.check_set(event["set"], (*path, "set"))
        if "appears_at" in event:
            self.check_zone(event["appears_at"], (*path, "appears_at"))

    def check_procedure(self) -> None:
        steps = self.data.get("procedure") or []
        action_ids = {a["id"] for s in self.states.values() for a in s.get("actions") or []}
        action_ids |= {a["id"] for e in self.data.get("random_events") or [] for a in e["actions"]}
        index: dict[str, int] = {}
        for i, step in enumerate(steps):
            aid = step["action"]
            if aid not in action_ids:
                self.ck.error(
                    ("procedure", i, "action"),
                    f"procedure step names the unknown action {aid!r}{_hint(aid, action_ids)}",
                )
            if aid in index:
                self.ck.error(("procedure", i, "action"), f"the action {aid!r} is already step {index[aid] + 1}")
            index.setdefault(aid, i)
        after: dict[str, list[str]] = {}
        for i, step in enumerate(steps):
            for j, before in enumerate(step.get("after") or []):
                if before not in index:
                    self.ck.error(
                        ("procedure", i, "after", j),
                        f"after {before!r}: no procedure step has that action{_hint(before, index)}",
                    )
            after[step["action"]] = [b for b in step.get("after") or [] if b in index]
        for path, entry in [*self.mistakes(), *self.actions()]:
            step = entry.get("step")
            if isinstance(step, str) and step not in index:
                self.ck.error((*path, "step"), f"step {step!r}: no procedure step has that action{_hint(step, index)}")
        for i, step in enumerate(steps):
            if "when" in step:
                self.check_condition(step["when"], ("procedure", i, "when"))
        cycle = _find_cycle(after)
        if cycle:
            self.ck.error(
                ("procedure", index[cycle[0]]), f"the order constraints go round in a circle: {' -> '.join(cycle)}"
            )

    def actions(self) -> list[tuple[Path_, dict[str, Any]]]:
        """Every action in the course (states' and random events' answers), with its path."""
        found: list[tuple[Path_, dict[str, Any]]] = []
        for sid, state in self.states.items():
            for i, action in enumerate(state.get("actions") or []):
                if isinstance(action, dict):
                    found.append((("states", sid, "actions", i), action))
        for i, event in enumerate(self.data.get("random_events") or []):
            for j, action in enumerate(event.get("actions") or []):
                if isinstance(action, dict):
                    found.append((("random_events", i, "actions", j), action))
        return found

    def mistakes(self) -> list[tuple[Path_, dict[str, Any]]]:
        """Every declared mistake in the course, with its path."""
        found: list[tuple[Path_, dict[str, Any]]] = []
        for sid, state in self.states.items():
            for i, action in enumerate(state.get("actions") or []):
                if isinstance(action.get("mistake"), dict):
                    found.append((("states", sid, "actions", i, "mistake"), action["mistake"]))
            timer = state.get("timer")
            if isinstance(timer, dict) and isinstance(timer.get("mistake"), dict):
                found.append((("states", sid, "timer", "mistake"), timer["mistake"]))
        for i, event in enumerate(self.data.get("random_events") or []):
            for j, action in enumerate(event.get("actions") or []):
                if isinstance(action.get("mistake"), dict):
                    found.append((("random_events", i, "actions", j, "mistake"), action["mistake"]))
            if isinstance(event.get("ignored"), dict):
                found.append((("random_events", i, "ignored"), event["ignored"]))
        return found

    def check_instead(self) -> None:
        """A declared mistake without `instead:` leaves the debrief without the right way for it (the next procedure
        step would teach the wrong thing), so it is shown without one: worth a warning, not an error."""
        for path, mistake in self.mistakes():
            if "instead" not in mistake:
                code = mistake.get("code", "?")
                self.ck.warning(path, f"mistake {code} has no `instead:`: the debrief cannot show what to do instead")

    def check_unread(self) -> None:
        """A variable no condition reads changes nothing the trainee sees or can do: a leftover, or a missing `when`."""
        for name in self.variables:
            if name not in self.read:
                self.ck.warning(
                    ("variables", name),
                    f"variable {name!r} is never read by any condition (when:, a machine's running:/locked:, the "
                    "inventory): remove it, or test it where it matters",
                    at_key=True,
                )

    def check_labels(self) -> None:
        for path, action in self.actions():
            label = action.get("label")
            for lang, text in label.items() if isinstance(label, dict) else ():
                if isinstance(text, str) and _cells(text) > LABEL_MAX_CELLS:
                    self.ck.warning(
                        (*path, "label", lang),
                        f"label is {_cells(text)} columns wide; the player shows {LABEL_MAX_CELLS} on one line at 80 "
                        "columns (a Chinese character takes two): shorten it, or it wraps",
                    )

    def check_map(self) -> None:
        m = self.data.get("map")
        if not m:
            return
        width, height = m["width"], m["height"]
        if isinstance(width, int) and width > MAP_MAX_WIDTH:
            self.ck.warning(
                ("map", "width"),
                f"the map is {width} columns wide; at 80 columns the player shows {MAP_MAX_WIDTH}: its right side is cut",
            )
        if isinstance(height, int) and height > MAP_MAX_HEIGHT:
            self.ck.warning(
                ("map", "height"),
                f"the map is {height} rows high; the player shows at most {MAP_MAX_HEIGHT} beside a full list of "
                "choices: its bottom rows are cut",
            )
        seen: set[str] = set()
        for i, zone in enumerate(m["zones"]):
            if zone["id"] in seen:
                self.ck.error(("map", "zones", i, "id"), f"duplicate zone id {zone['id']!r}")
            seen.add(zone["id"])
            x, y, w, h = zone["rect"][:4]
            if len(zone["rect"]) != 4:
                self.ck.error(("map", "zones", i, "rect"), "rect is [x, y, width, height]: four numbers")
            elif x + w > width or y + h > height or w < 1 or h < 1:
                self.ck.error(
                    ("map", "zones", i, "rect"), f"zone {zone['id']!r} does not fit in the {width}x{height} map"
                )
        for i, machine in enumerate(m.get("machines") or []):
            path: Path_ = ("map", "machines", i)
            if machine["id"] in seen:
                self.ck.error((*path, "id"), f"duplicate map id {machine['id']!r}")
            seen.add(machine["id"])
            x, y = machine["at"][:2]
            if len(machine["at"]) != 2:
                self.ck.error((*path, "at"), "at is [x, y]: two numbers")
            elif x >= width or y >= height:
                self.ck.error((*path, "at"), f"machine {machine['id']!r} is outside the {width}x{height} map")
            for key in ("running", "locked"):
                if key in machine:
                    self.check_condition(machine[key], (*path, key))

    def check_inventory(self) -> None:
        for i, item in enumerate(self.data.get("inventory") or []):
            self.check_condition(item["when"], ("inventory", i, "when"))

    # --- the state graph ---------------------------------------------------------------------------------------
    def edges(self, fixes: dict[str, str] | None = None) -> dict[str, set[str]]:
        """State -> the states its actions, timer and random events lead to. A goto to a missing state leads where
        `fixes` says (the state it probably meant, or _FIXED: somewhere that can end), else nowhere."""
        fixes = fixes or {}
        events_in: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in self.data.get("random_events") or []:
            for sid in event["states"]:
                events_in[sid].append(event)
        graph: dict[str, set[str]] = {_FIXED: set()}
        for sid, state in self.states.items():
            targets = {a.get("goto", sid) for a in state.get("actions") or []}
            if "timer" in state:
                targets.add(state["timer"]["goto"])
            for event in events_in[sid]:
                targets |= {a.get("goto", sid) for a in event["actions"]}
            targets = {fixes.get(t, t) if isinstance(t, str) else t for t in targets}
            graph[sid] = {t for t in targets if t in self.states or t == _FIXED}
        return graph

    def graph_problems(self, start: str, fixes: dict[str, str]) -> tuple[set[str], set[str]]:
        """(states that cannot be reached, reached states from which no ending can be reached)."""
        graph = self.edges(fixes)
        reached = _reach(graph, [start])
        terminals = [sid for sid, s in self.states.items() if "outcome" in s] + [_FIXED]
        reverse: dict[str, set[str]] = defaultdict(set)
        for src, targets in graph.items():
            for t in targets:
                reverse[t].add(src)
        can_end = _reach(reverse, terminals)
        unreachable = {sid for sid in self.states if sid not in reached}
        return unreachable, {sid for sid in self.states if sid in reached and sid not in can_end}

    def check_graph(self) -> None:
        start = self.data.get("start")
        if start not in self.states:
            return
        unreachable, trapped = self.graph_problems(start, {})
        # Root errors first: a misspelled goto cuts the graph, and every state behind it would be reported as
        # unreachable or trapped too (one typo gave 19 errors). Fix the broken gotos one at a time, as the author
        # would, and group what each fix cures under its goto's error instead of listing it.
        cured: dict[str, str] = {}  # state -> the broken goto target that explains its problem
        fixes: dict[str, str] = {}
        now_unreachable, now_trapped = unreachable, trapped
        for target, (_, meant) in self.broken.items():
            fixes[target] = meant or _FIXED
            after_unreachable, after_trapped = self.graph_problems(start, fixes)
            for sid in (now_unreachable - after_unreachable) | (now_trapped - after_trapped):
                cured.setdefault(sid, target)
            now_unreachable, now_trapped = after_unreachable, after_trapped
        for target, (index, _) in self.broken.items():
            follow = [sid for sid in self.states if cured.get(sid) == target]
            if follow:
                names = ", ".join(repr(sid) for sid in follow[:3]) + (", …" if len(follow) > 3 else "")
                root = self.ck.diagnostics[index]
                self.ck.diagnostics[index] = replace(
                    root,
                    message=f"{root.message} (this also leaves {_states(len(follow))} unreachable or with no way to an "
                    f"ending: {names}; not listed separately)",
                )
        for sid in self.states:
            if sid in unreachable and sid not in cured:
                self.ck.error(
                    ("states", sid), f"state {sid!r} cannot be reached from the start state {start!r}", at_key=True
                )
        terminals = [sid for sid, s in self.states.items() if "outcome" in s]
        if not any(self.states[t]["outcome"] == "completed" for t in terminals):
            self.ck.error(
                ("states",), "no state has outcome: completed, so no trainee could ever finish the course", at_key=True
            )
        for sid in self.states:
            if sid in trapped and sid not in cured:
                self.ck.error(
                    ("states", sid),
                    f"from state {sid!r} no terminal state can be reached: the trainee would be trapped",
                    at_key=True,
                )


def _cells(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK, full-width punctuation) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _states(n: int) -> str:
    return "1 state" if n == 1 else f"{n} states"


_FIXED = "\0fixed"  # where a broken goto leads once fixed to an unknown place: assumed to reach an ending


def _reach(graph: dict[str, set[str]], roots: list[str]) -> set[str]:
    seen = set(roots)
    todo = list(roots)
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _find_cycle(after: dict[str, list[str]]) -> list[str] | None:
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in after.get(node, ()):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in after:
        if node not in colour:
            found = visit(node)
            if found:
                return found
    return None


def check_semantics(data: dict[str, Any], ck: Checker, *, shape_ok: bool) -> None:
    """Add every cross-reference problem to `ck`. With `shape_ok` False, malformed parts are skipped, not followed."""
    _Semantics(data, ck).run(shape_ok)
