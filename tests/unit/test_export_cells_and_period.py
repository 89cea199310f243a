"""Formula neutralisation for spreadsheets, and the days of reports (today, --since/--until)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer import sitetime
from trainer.errors import UsageError
from trainer.export import cells
from trainer.reports import period


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", '=HYPERLINK("http://x","y")']
)
def test_text_starting_like_a_formula_is_marked_as_text_for_csv(text):
    assert cells.starts_like_formula(text)
    assert cells.csv_text(text) == cells.TEXT_MARK + text
    assert not cells.starts_like_formula(cells.csv_text(text))


@pytest.mark.parametrize(
    "text",
    [
        "000123",
        "1.0",
        "1-2",
        "2026-11-01",
        "07:30",
        "#N/A",
        "#DIV/0!",
        "50%",
        "(1)",
        "¥3",
        "TRUE",
        "false",
        " 1",
        "'=1",
    ],
)
def test_text_a_spreadsheet_would_read_as_a_number_date_error_or_truth_is_marked(text):
    assert cells.reads_as_other(text)
    assert cells.csv_text(text) == cells.TEXT_MARK + text


@pytest.mark.parametrize("text", ["", "张三", "a=1", "mini", "press-loto-die-change", "valid", "B1001"])
def test_ordinary_text_is_left_alone(text):
    assert not cells.reads_as_other(text)
    assert cells.csv_text(text) == text


def test_csv_replaces_control_characters_as_the_xlsx_does():
    assert cells.csv_text("a\x07b") == "a\ufffdb" == cells.storable("a\x07b")


def test_control_characters_xml_cannot_hold_are_replaced():
    assert cells.unstorable("a\x00b\x1fc") and not cells.unstorable("tab\tcr\rlf\n")
    assert cells.storable("a\x00b\x07c\x0bd") == "a\ufffdb\ufffdc\ufffdd"
    assert cells.storable("tab\tcr\rlf\n王") == "tab\tcr\rlf\n王"


def test_parse_day():
    assert sitetime.parse_day("2026-11-01") == date(2026, 11, 1)
    for bad in ("2026-13-01", "01/11/2026", "yesterday", ""):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            sitetime.parse_day(bad)


def test_a_period_is_whole_days_of_the_site():
    p = period.Period(date(2026, 3, 5), date(2026, 3, 6), sitetime.zone("Asia/Shanghai"))
    assert p.start == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # midnight in Chongqing
    assert p.end == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # the end of --until's day, exclusive
    assert not p.contains(datetime(2026, 3, 4, 15, 59, tzinfo=UTC))
    assert p.contains(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
    assert p.contains(datetime(2026, 3, 6, 15, 59, tzinfo=UTC))
    assert not p.contains(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))
    assert period.Period().contains(datetime(1999, 1, 1, tzinfo=UTC))


def test_since_after_until_is_refused():
    with pytest.raises(UsageError, match="after --until"):
        period.Period(date(2026, 3, 7), date(2026, 3, 6))


@given(st.text(alphabet=st.sampled_from("ab=+-@\t\r\n\x01#N/A张 "), max_size=6))
def test_text_the_xlsx_writer_writes_as_it_is_holds_nothing_risky(text):
    """The XLSX writer writes a text straight when _plain says so (most texts): it must never be wrong."""
    from trainer.export.cells import FORMULA_STARTS, unstorable
    from trainer.export.xlsx import _ERROR_CODES, _plain

    risky = text[:1] in FORMULA_STARTS or text in _ERROR_CODES or unstorable(text) or "\n" in text or "\r" in text
    assert _plain(text) is not risky
