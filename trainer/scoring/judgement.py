"""The graded list of a session's mistakes, and the words that tell it: one judgement, read everywhere.

A session's mistakes are graded once when it ends (and again on each rescoring, kept as history): the scores row's
`details` (trainer.scoring.grade.details) is that list. The debrief, `trainer sessions show`, the instructor's session
view, the course and trainee reports, the score sheets and the xAPI statements all read it through `read()` here, never
the severity a course declares: the declared severity is what the course says before anything happened; the grade is
what the session's facts made of it (docs/scoring.md, "Every grade explained").

The severity names are fixed here, once per language, for the app, the help, the reports and the sheets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.course.model import Course, Mistake, MistakeSeverity, Text
from trainer.engine.events import Event
from trainer.scoring.detect import DetectedMistake, action_label, detect, expected_step

# The one set of severity words. "none": graded no mistake (cleared by the model, or a consequence folded under its root).
SEVERITY_WORDS: Mapping[str, Text] = {
    "minor": Text(zh="轻微", en="minor"),
    "serious": Text(zh="严重", en="serious"),
    "critical": Text(zh="致命", en="critical"),
    "none": Text(zh="不扣分", en="no deduction"),
}
SEVERITIES: tuple[MistakeSeverity, ...] = (MistakeSeverity.MINOR, MistakeSeverity.SERIOUS, MistakeSeverity.CRITICAL)


def severity_word(severity: str | MistakeSeverity, lang: str) -> str:
    return SEVERITY_WORDS[str(severity)].get(lang)


def facts_of(m: DetectedMistake) -> dict[str, Any]:
    """The facts of a mistake's context that can move its grade, as plain JSON values keyed in sorted order (the store
    keeps them beside the grade): corrected after how many seconds, whether a hazard followed, the how-many-th time."""
    if m.source == "hint" or m.under is not None:
        return {}  # a hint's cost and a consequence's (none) are fixed: no fact moves them
    out: dict[str, Any] = {}
    if m.corrected and m.correction_s is not None:
        out["corrected_s"] = float(m.correction_s)
    out["hazard_followed"] = bool(m.hazard_followed)
    if m.repeat > 1:
        out["repeat"] = int(m.repeat)
    return out


@dataclass(frozen=True)
class Judged:
    """One row of a stored graded list. Rows stored before a key existed read as its default."""

    mistake: str  # the detected mistake's id (what labels refer to)
    code: str
    declared: str  # minor, serious, critical: what the course declares
    severity: str  # the grade: none, minor, serious, critical
    points: float
    confidence: float = 1.0
    review: bool = False
    seq: int | None = None
    t_ms: int | None = None
    state: str | None = None
    source: str | None = None
    under: str | None = None  # the root mistake's id when this is a consequence folded under it
    facts: Mapping[str, Any] | None = None
    weighed: tuple[tuple[str, float], ...] = ()

    @property
    def counts(self) -> bool:
        """Whether it is a mistake by the grade (reports and sheets count these, at `severity`)."""
        return self.severity != "none"


def read(details: str | Sequence[Mapping[str, Any]] | None) -> tuple[Judged, ...]:
    """A stored graded list (JSON text or its rows) as Judged rows, in the order made. Raises ValueError, KeyError or
    TypeError for a list that is not one."""
    if details is None:
        return ()
    rows = json.loads(details) if isinstance(details, str) else details
    return tuple(_judged(r) for r in rows)


def _judged(r: Mapping[str, Any]) -> Judged:
    severity = str(r["severity"])
    if severity not in SEVERITY_WORDS or str(r["declared"]) not in SEVERITY_WORDS:
        raise ValueError(f"unknown severity {severity!r}")
    return Judged(
        mistake=str(r["mistake"]),
        code=str(r["code"]),
        declared=str(r["declared"]),
        severity=severity,
        points=float(r["points"]),
        confidence=float(r.get("confidence", 1.0)),
        review=bool(r.get("review", False)),
        seq=r.get("seq"),
        t_ms=r.get("t_ms"),
        state=r.get("state"),
        source=r.get("source"),
        under=r.get("under"),
        facts=r.get("facts"),
        weighed=tuple((str(f), float(v)) for f, v in r.get("weighed") or ()),
    )


# --- the explanation beside each grade --------------------------------------------------------------------------------

_FACT_WORDS: Mapping[str, Text] = {
    "corrected_s": Text(zh="{value:g}秒后改正", en="corrected after {value:g} s"),
    "not_corrected": Text(zh="没有改正", en="not corrected"),
    "hazard_followed": Text(zh="之后暴露在危险中", en="exposed to a hazard afterwards"),
    "no_hazard": Text(zh="之后没有暴露在危险中", en="no hazard exposure followed"),
    "repeat": Text(zh="第{value}次", en="time no. {value}"),
}
# The facts a model weighs (features.NEUTRAL), as a trainee reads them.
_WEIGHED_WORDS: Mapping[str, Text] = {
    "corrected": Text(zh="是否及时改正", en="whether and when you corrected it"),
    "hazard_followed": Text(zh="随后是否发生危险", en="whether a hazard followed"),
    "hazard": Text(zh="涉及的危险类别", en="the kind of hazard involved"),
    "outcome": Text(zh="实训的结局", en="how the session ended"),
    "repeat": Text(zh="是第几次犯", en="how many times you did it"),
    "mistakes_before": Text(zh="之前的错误数", en="the mistakes before it"),
    "timer_running": Text(zh="限时情境", en="the time limit"),
    "seconds_in_state": Text(zh="在该步骤停留的时间", en="the time spent on that step"),
}
_WORDS: Mapping[str, Text] = {
    "declared": Text(zh="课程定为{declared}", en="course says {declared}"),
    "graded": Text(zh="评定为{graded}", en="graded {graded}"),
    "rubric": Text(zh="按课程规定评定", en="graded as the course declares"),
    "hint": Text(zh="提示固定扣{points:g}分", en="a hint always costs {points:g} points"),
    "model": Text(zh="模型置信度{confidence:.0%}", en="model confidence {confidence:.0%}"),
    "weighed": Text(zh="模型最看重：{facts}", en="the model weighed most: {facts}"),
    "cleared": Text(zh="模型判定不算错误", en="the model graded it no mistake"),
    "folded": Text(zh="由上一条引起，不另扣分", en="a consequence of the one above: no further points"),
    "review": Text(zh="待教员复核", en="for an instructor's review"),
}
_SEP = {"zh": "，", "en": ", "}


def fact_phrases(j: Judged, lang: str) -> list[str]:
    """The facts of the mistake's context, in words."""
    facts = j.facts or {}
    if not facts:
        return []
    out = []
    if "corrected_s" in facts:
        out.append(_FACT_WORDS["corrected_s"].get(lang).format(value=facts["corrected_s"]))
    elif j.source not in ("timeout", "skipped"):
        out.append(_FACT_WORDS["not_corrected"].get(lang))
    out.append(_FACT_WORDS["hazard_followed" if facts.get("hazard_followed") else "no_hazard"].get(lang))
    if facts.get("repeat"):
        out.append(_FACT_WORDS["repeat"].get(lang).format(value=facts["repeat"]))
    return out


def explanation(j: Judged, lang: str, *, scorer: str = "rubric") -> str:
    """Why this grade, in one line: declared severity, the facts, the final grade, and (when a model graded it) what
    the model weighed most and its confidence. E.g. "course says serious; corrected after 3 s, no hazard
    exposure followed: graded minor (the model weighed most: whether and when you corrected it; model confidence 86%)"."""
    sep = _SEP.get(lang, ", ")
    w = {k: t.get(lang) for k, t in _WORDS.items()}
    if j.under is not None:
        return w["folded"]
    if j.source == "hint":
        return w["hint"].format(points=j.points)
    head = w["declared"].format(declared=severity_word(j.declared, lang))
    facts = fact_phrases(j, lang)
    graded = w["cleared"] if j.severity == "none" else w["graded"].format(graded=severity_word(j.severity, lang))
    text = (
        head + ("；" if lang == "zh" else "; ") + (sep.join(facts) + ("：" if lang == "zh" else ": ") if facts else "")
    )
    text += graded
    extra = []
    if scorer == "rubric":
        extra.append(w["rubric"])
    else:
        if j.weighed:
            named = sep.join(_WEIGHED_WORDS.get(f, Text(zh=f, en=f)).get(lang) for f, _ in j.weighed)
            extra.append(w["weighed"].format(facts=named))
        extra.append(w["model"].format(confidence=j.confidence))
    if j.review:
        extra.append(w["review"])
    if lang == "zh":
        return text + "（" + "；".join(extra) + "）"
    return text + " (" + "; ".join(extra) + ")"


# --- the graded list beside the course: rule, the right way, consequences -----------------------------------------------


@dataclass(frozen=True)
class Explained:
    """One row of the graded list as the debrief, `trainer sessions show` and the instructor's view show it."""

    judged: Judged
    rule: Text
    standard: str | None
    instead: Text | None  # the right way for this mistake (None: nothing to show)
    consequences: tuple[Explained, ...] = ()  # mistakes folded under it (judged.under == this one): no points


def explained(course: Course, events: Sequence[Event], graded: Sequence[Judged]) -> list[Explained]:
    """The rows of a graded list, each with its rule and the right way from the course, consequences under their root,
    in the order made. Rows the course no longer explains (another version) keep their code as the rule."""
    detected = {m.id: m for m in detect(course, events)}
    rows: dict[str, Explained] = {}
    for j in graded:
        m = detected.get(j.mistake)
        if m is None:
            rows[j.mistake] = Explained(j, Text(zh=j.code, en=j.code), None, None)
        else:
            rows[j.mistake] = Explained(j, m.rule, m.standard, instead_of(course, m, events))
    out: list[Explained] = []
    under: dict[str, list[Explained]] = {}
    for row in rows.values():
        root = row.judged.under
        if root is not None and root in rows:
            under.setdefault(root, []).append(row)
    for key, row in rows.items():
        if row.judged.under is not None and row.judged.under in rows:
            continue
        kids = tuple(under.get(key, ()))
        out.append(Explained(row.judged, row.rule, row.standard, row.instead, kids) if kids else row)
    return out


def instead_of(course: Course, m: DetectedMistake, events: Sequence[Event]) -> Text | None:
    """What the trainee should have done instead of mistake `m`, from the course (never the next procedure step for an
    unrelated mistake): a declared mistake's `instead:`; for a skipped or out-of-order step, that step; for a timeout
    (and a timer mistake that says nothing), what the state expected; for a hint, nothing."""
    if m.source in ("skipped", "order"):
        return _step_text(course, m.ref)
    if m.source in ("action", "timer", "ignored"):
        declared = _declared(course, m)
        if declared is not None and declared.instead is not None:
            return declared.instead
        if m.source == "timer":
            return _expected_in(course, m.ref, events, m.seq)
        if declared is not None and declared.step:
            return _step_text(course, declared.step)
        return None
    if m.source == "timeout":
        return _expected_in(course, m.state, events, m.seq)
    return None


def _declared(course: Course, m: DetectedMistake) -> Mistake | None:
    if m.source == "ignored":
        ev = next((e for e in course.random_events if e.id == m.ref), None)
        return ev.ignored if ev else None
    if m.source == "timer":
        state = course.states.get(m.ref)
        return state.timer.mistake if state and state.timer else None
    for _, a in course.all_actions():
        if a.id == m.ref and a.mistake and a.mistake.code == m.code:
            return a.mistake
    return None


def _step_text(course: Course, action_id: str) -> Text:
    return action_label(course, action_id)


def _expected_in(course: Course, state_id: str, events: Sequence[Event], seq: int) -> Text | None:
    """What a state expected: the procedure step the expert takes there then, else its actions that are no mistake."""
    state = course.states.get(state_id)
    if state is None:
        return None
    offered = {a.id for a in state.actions}
    step = expected_step(course, events, seq)
    if step is not None and step.action in offered:
        return action_label(course, step.action)
    fine = [a.label for a in state.actions if a.mistake is None and a.id in _procedure_actions(course)]
    fine = fine or [a.label for a in state.actions if a.mistake is None]
    if not fine:
        return None
    return Text(zh=" / ".join(t.get("zh") for t in fine), en=" / ".join(t.get("en") for t in fine))


def _procedure_actions(course: Course) -> frozenset[str]:
    return frozenset(s.action for s in course.procedure)
