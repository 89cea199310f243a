"""Scene and ending texts agree with what the trainee did on the way (issue #16 item 6, #17 item 5).

Each test plays, through the engine, a path on which a bundled course used to show text contradicting the variables
(a hub still saying a step is to be done after it was done; an ending praising work that was skipped) and reads the
text the trainee now sees there.
"""

from __future__ import annotations

from golden import play


def shown(played, lang: str = "en") -> str:
    """The current state's text as the player shows it now."""
    return played.session.state.scene(played.session.variables, lang)


def test_crane_slings_after_rejecting_the_rope_sling_no_longer_says_it_is_on_the_hook():
    played = play("crane-die-lift", ["to_slings", "inspect_rope_sling", "reject_rope_sling"], event=False)
    assert "left a four-leg wire-rope sling on the hook" not in shown(played)
    assert "scrap cage" in shown(played) and "报废区" in shown(played, "zh")


def test_crane_rig_after_centring_and_hooking_on_no_longer_says_the_hook_is_off_to_one_side():
    steps = ["to_slings", "inspect_rope_sling", "reject_rope_sling", "fit_chain_sling", "center_hook", "attach_legs"]
    played = play("crane-die-lift", steps, event=False)
    assert "off to one side" not in shown(played) and "一侧约1米" not in shown(played, "zh")
    assert "plumb over the die's centre" in shown(played) and "pins" in shown(played)


def test_crane_landing_after_blocks_and_one_signaller_no_longer_has_wang_waving_and_blocks_at_chen_feet():
    steps = [
        "inspect_rope_sling", "reject_rope_sling", "fit_chain_sling", "check_weight", "center_hook", "attach_legs",
        "take_slack", "trial_lift", "raise_to_travel", "route_bay", "follow_signals", "stop_on_signal",
        "one_signaller", "place_blocks",
    ]  # fmt: skip
    played = play("crane-die-lift", ["to_slings", *steps], event=False)
    assert played.session.state.id == "landing"
    assert "waving you down" not in shown(played) and "挥手" not in shown(played, "zh")
    assert "at his feet" not in shown(played)
    assert "only Lao Chen gives signals" in shown(played)
