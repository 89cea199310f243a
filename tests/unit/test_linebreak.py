"""Chinese line breaking: no line starts with a closing mark or ends with an opening one; nothing is lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

from trainer.tui.linebreak import NO_END, NO_START, lines, wrap

SCENE = "你来到冲压机侧面的隔离柜：主电源隔离开关QF1、液压泵截止阀、总气源球阀。班组长喊道：“快点，别磨蹭！”"


def test_a_line_never_starts_with_a_closing_mark_nor_ends_with_an_opening_one():
    for width in range(8, 80):
        shown = lines(SCENE, width)
        assert "".join(shown) == SCENE, width
        for line in shown:
            assert cell_len(line) <= width
            assert line[0] not in NO_START, (width, shown)
            assert line[-1] not in NO_END, (width, shown)


def test_the_break_that_would_start_a_line_with_a_full_stop_takes_a_character_along():
    # 16 cells hold 8 Chinese characters; cut there, the second line would start with 。
    assert lines("总气源球阀已关闭。然后", 16) == ["总气源球阀已关", "闭。然后"]
    assert lines("他喊道：“停！”", 10) == ["他喊道：", "“停！”"]  # the opening quote goes with what it opens


def test_latin_words_break_at_spaces_and_styles_survive():
    text = Text("Lock out ")
    text.append("every energy source", style="bold")
    text.append(" before you reach in.")
    wrapped = wrap(text, 20)
    assert wrapped.plain.split("\n") == ["Lock out every", "energy source before", "you reach in."]
    bold = [wrapped.plain[s.start : s.end] for s in wrapped.spans if s.style == "bold"]
    assert bold == ["every", "energy source"]


def test_paragraphs_and_blank_lines_are_kept():
    assert lines("第一段。\n\n第二段。", 40) == ["第一段。", "", "第二段。"]


@given(st.text(alphabet="冲压机，。、“”「」（）QF1 ab！？", min_size=1, max_size=80), st.integers(4, 40))
def test_any_text_keeps_every_visible_character_and_fits(text, width):
    shown = lines(text, width)
    assert "".join(shown).replace(" ", "") == text.replace(" ", "")
    assert all(cell_len(line) <= width for line in shown)


def test_a_wrapped_paragraph_hangs_under_its_text():
    # Under the text after the leading spaces and a list mark; `hang` for a paragraph with neither.
    assert lines("    → The right way: lift it and look at the seal", 24) == [
        "    → The right way:",
        "      lift it and look",
        "      at the seal",
    ]
    assert lines("-15 serious Check an extinguisher first", 20) == ["-15 serious Check an", "extinguisher first"]
    assert wrap("-15 serious Check an extinguisher first", 20, hang=4).plain.split("\n") == [
        "-15 serious Check an",
        "    extinguisher",
        "    first",
    ]
    assert lines("  • 使用灭火器前先检查铅封和保险销", 16) == ["  • 使用灭火器前", "    先检查铅封和", "    保险销"]
    # An indent over half the line is not kept: the text would be a narrow column.
    assert lines("            a b c d e f g h", 20) == ["            a b c d", "e f g h"]
