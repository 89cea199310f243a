"""Words mean one thing (issue 16): one set of severity words for the app, the help, the pass rule, the reports and
the sheets; a hint costs exactly what the help says."""

from __future__ import annotations

from trainer.reports.scores import ATTEMPT_COLUMNS
from trainer.scoring.judgement import SEVERITY_WORDS
from trainer.scoring.rubric import HINT_POINTS
from trainer.tui.i18n import t
from trainer.tui.screens.reports import TEXT


def test_the_app_and_the_reports_use_the_one_set_of_severity_words():
    for lang in ("zh", "en"):
        for key, word in SEVERITY_WORDS.items():
            assert t(f"severity.{key}", lang) == word.get(lang)
            if key != "none":
                assert TEXT[lang][key] == word.get(lang)
    assert [SEVERITY_WORDS[k].zh for k in ("minor", "serious", "critical")] == ["轻微", "严重", "致命"]


def test_the_pass_rule_names_critical_mistakes_with_the_critical_word_only():
    zh, en = t("briefing.pass_rule", "zh", score=80), t("briefing.pass_rule", "en", score=80)
    assert SEVERITY_WORDS["critical"].zh in zh and SEVERITY_WORDS["serious"].zh not in zh
    assert SEVERITY_WORDS["critical"].en in en and SEVERITY_WORDS["serious"].en not in en


def test_the_sheet_columns_use_the_severity_words():
    heads = {c.key: (c.en, c.zh) for c in ATTEMPT_COLUMNS}
    for key in ("minor", "serious", "critical"):
        en, zh = heads[key]
        assert en.startswith(SEVERITY_WORDS[key].en) and zh.startswith(SEVERITY_WORDS[key].zh)


def test_the_help_states_what_a_hint_costs():
    # Since practice and exam: a hint is free in practice and an exam has none (only sessions recorded before modes
    # paid HINT_POINTS for one, and their debrief says so).
    assert "只在练习中有，不扣分" in t("help.body", "zh")
    assert "practice only; it costs nothing" in t("help.body", "en")
    assert "{HINT}" not in t("help.body", "en") and HINT_POINTS > 0
