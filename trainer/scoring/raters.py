"""Two synthetic reference raters: how the starter dataset was labelled. SYNTHETIC: they are code, not instructors.

No public labelled dataset of simulator safety-training sessions exists, so the starter dataset that the default model
is trained on is labelled by these two rule-based raters. They grade the way instructors describe grading (UK HSE HSG48
on slips, lapses and violations; the DVSA's minor/serious/dangerous faults, where a repeated minor fault becomes serious)
and, like two human instructors, they share a core of judgement but differ in strictness and make occasional slips.
Replace their labels with a site's own instructors' labels (`trainer label`, or any tool writing the labelled-session
format) and retrain: the model learns whatever the instructors label (see docs/scoring.md).

The shared judgement, applied to the course's declared severity (none 0, minor 1, serious 2, critical 3):

1. noticed and put right quickly (within the rater's `quick_s` seconds): one grade lighter;
2. not put right and the session then ended in an incident: one grade heavier;
3. not put right and a hazard state followed, for a minor slip: one grade heavier ("hands in the die" after a slip);
4. repeated (the rater's `repeat_n`-th time or later this session): one grade heavier;
5. hesitation (a timer ran out): nothing more than minor where the state has no hazard; one grade heavier in a fire or
   where the rater counts the hazard as grave;
6. the rater's own leniency or strictness (see RaterStyle), then a random slip of one grade with chance `slip`.

Grades are clipped to none..critical. A rater's slips are drawn from a hash of (rater, session, mistake): the same
mistake always gets the same label from the same rater, whatever order the sessions come in.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trainer.scoring.features import GRADES


@dataclass(frozen=True)
class RaterStyle:
    id: str
    description: str
    quick_s: float  # a correction within this many seconds counts as "put right quickly"
    repeat_n: int  # from this occurrence on, a repeated mistake is graded one heavier
    grave_hazards: frozenset[str]  # hazard categories where hesitating is graded one heavier
    late_phase_lenient: float  # chance of grading a serious, uncorrected procedure slip late in the procedure as minor
    strict_critical_order: float  # chance of not forgiving a quickly corrected order mistake on a critical step
    slip: float  # chance of a random one-grade slip (either way)


RATERS: dict[str, RaterStyle] = {
    r.id: r
    for r in (
        RaterStyle(
            id="ref-strict",
            description="Senior safety instructor: strict on repetition and hesitation near machines; quick corrections only count when really quick.",
            quick_s=12.0,
            repeat_n=2,
            grave_hazards=frozenset({"fire", "crush", "chemical", "electrical", "struck_by", "fall"}),
            late_phase_lenient=0.0,
            strict_critical_order=0.5,
            slip=0.06,
        ),
        RaterStyle(
            id="ref-pragmatic",
            description="Production supervisor who also trains: more forgiving of corrected slips and of paperwork steps late in the job.",
            quick_s=30.0,
            repeat_n=3,
            grave_hazards=frozenset({"fire", "crush"}),
            late_phase_lenient=0.5,
            strict_critical_order=0.0,
            slip=0.09,
        ),
    )
}


def _draw(rater: str, session: str, mistake: str) -> random.Random:
    digest = hashlib.sha256(f"{rater}\x1f{session}\x1f{mistake}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def grade(ctx: Mapping[str, Any], style: RaterStyle, session: str, mistake: str) -> str:
    """The severity `style` gives a mistake with context `ctx` (the features of docs/scoring.md)."""
    rng = _draw(style.id, session, mistake)
    declared = int(ctx["declared_rank"])
    s = declared
    corrected = bool(ctx["corrected"])
    source = str(ctx["source"])
    if corrected and float(ctx["correction_s"]) <= style.quick_s:
        s -= 1
        if declared == 3 and source == "order" and rng.random() < style.strict_critical_order:
            s += 1  # "you did it late, but it was the isolation": not forgiven
    elif not corrected and (
        (ctx["outcome"] == "incident" and declared < 3) or (ctx["hazard_followed"] and declared == 1)
    ):
        s += 1
    if int(ctx["repeat"]) >= style.repeat_n:
        s += 1
    if source in ("timer", "timeout"):
        if ctx["hazard"] == "none" and not ctx["timer_running"]:
            s = min(s, 1)
        elif ctx["hazard"] in style.grave_hazards:
            s += 1
    if (
        source in ("skipped", "order")
        and declared == 2
        and not corrected
        and float(ctx["progress"]) >= 0.75
        and ctx["outcome"] != "incident"
        and rng.random() < style.late_phase_lenient
    ):
        s -= 1
    if rng.random() < style.slip:
        s += rng.choice((-1, 1))
    return GRADES[max(0, min(3, s))]


def label_line(line: dict[str, Any], raters: Mapping[str, RaterStyle] | None = None) -> dict[str, Any]:
    """Add each rater's label to every mistake of a labelled-session line (a dict in the format); returns the line."""
    raters = RATERS if raters is None else raters
    for m in line["mistakes"]:
        m["labels"] = [
            {"severity": grade(m["context"], style, line["session"], m["id"]), "labeller": style.id}
            for style in raters.values()
        ]
    return line
