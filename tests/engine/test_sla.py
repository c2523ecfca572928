"""Tests for engine.sla, checked against the real Romanian calendar.

Reference dates (2026): Good Friday 10 April, Orthodox Easter Monday 13 April,
Pentecost Monday / Children's Day 1 June, Saint Andrew 30 November,
National Day 1 December. 2 March 2026 is a Monday.
"""

import dataclasses
import json
from datetime import date, datetime, timedelta

import holidays
import pytest

from engine import sla
from engine.sla import (
    SlaProfile,
    SlaProfileError,
    add_working_days,
    days_left,
    is_overdue,
    is_working_day,
    next_working_day,
    working_days_between,
)

PETITION = {  # OG 27/2002
    "term": 30, "unit": "calendar_days", "first_day_counts": False,
    "rollover_to_working_day": True,
    "extension": {"max_days": 15, "times": 1, "who": ["head_of_department"]},
    "reminders_days_before": [5, 1],
    "label": {"ro": "30 de zile (OG 27/2002)", "en": "30 days (OG 27/2002)"},
}
FISCAL_CERTIFICATE = {"term": 2, "unit": "working_days"}


def profile(**overrides):
    return SlaProfile.from_dict({**PETITION, **overrides})


# --- calendar -------------------------------------------------------------

@pytest.mark.parametrize("day, why", [
    (date(2026, 4, 10), "Good Friday 2026"),
    (date(2026, 4, 13), "Orthodox Easter Monday 2026"),
    (date(2026, 6, 1), "Pentecost Monday / Children's Day 2026"),
    (date(2025, 4, 21), "Orthodox Easter Monday 2025"),
    (date(2027, 5, 3), "Orthodox Easter Monday 2027"),
    (date(2027, 6, 21), "Pentecost Monday 2027"),
    (date(2025, 12, 1), "National Day (a Monday)"),
    (date(2026, 12, 1), "National Day (a Tuesday)"),
    (date(2025, 1, 24), "Unification Day (a Friday)"),
    (date(2026, 1, 2), "2 January (a Friday)"),
    (date(2026, 11, 30), "Saint Andrew (a Monday)"),
    (date(2026, 3, 7), "a Saturday"),
    (date(2026, 3, 8), "a Sunday"),
])
def test_non_working_days(day, why):
    assert not is_working_day(day), why


@pytest.mark.parametrize("day", [
    date(2026, 4, 14),  # Tuesday after Orthodox Easter
    date(2026, 3, 3),   # ordinary Tuesday
    date(2027, 4, 13),  # 13 April is a holiday only in 2026: Easter moves
    date(2025, 6, 2),   # 1 June 2025 was a Sunday; the Monday after is ordinary
    date(2026, 6, 2),
])
def test_working_days(day):
    assert is_working_day(day)


def test_next_working_day_is_strictly_after_and_skips_holidays():
    assert next_working_day(date(2026, 3, 3)) == date(2026, 3, 4)
    # Good Friday, weekend and Easter Monday are all skipped.
    assert next_working_day(date(2026, 4, 9)) == date(2026, 4, 14)
    # Saint Andrew and National Day are back to back.
    assert next_working_day(date(2026, 11, 27)) == date(2026, 12, 2)
    # Across the year boundary: 1 and 2 January 2027 are New Year, 3 is a Sunday.
    assert next_working_day(date(2026, 12, 31)) == date(2027, 1, 4)


def test_add_working_days():
    assert add_working_days(date(2026, 5, 29), 0) == date(2026, 5, 29)
    assert add_working_days(date(2026, 5, 29), 1) == date(2026, 6, 2)
    assert add_working_days(date(2026, 5, 29), 2) == date(2026, 6, 3)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 5, 29), -1)


def test_working_days_between_concrete():
    assert working_days_between(date(2026, 5, 29), date(2026, 6, 3)) == 2
    assert working_days_between(date(2026, 6, 3), date(2026, 5, 29)) == -2
    assert working_days_between(date(2026, 3, 3), date(2026, 3, 3)) == 0
    # 261 weekdays in 2026 minus 11 holidays falling on weekdays.
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 250


def test_working_days_between_matches_day_by_day_count():
    start = date(2025, 12, 20)
    days = [start + timedelta(days=i) for i in range(420)]
    flags = [is_working_day(d) for d in days]
    for i in range(0, len(days), 7):
        for j in range(i, len(days), 13):
            expected = sum(flags[i + 1:j + 1])
            assert working_days_between(days[i], days[j]) == expected, (days[i], days[j])


def test_holiday_calendar_is_built_once_per_year(monkeypatch):
    calls = []
    real = holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    sla._holidays_for_year.cache_clear()
    monkeypatch.setattr(sla.holidays, "country_holidays", counting)
    try:
        for _ in range(50):
            is_working_day(date(2026, 4, 13))
            is_working_day(date(2026, 12, 1))
            working_days_between(date(2026, 1, 1), date(2026, 12, 31))
        is_working_day(date(2027, 5, 3))
        assert calls == [2026, 2027]
    finally:
        sla._holidays_for_year.cache_clear()


def test_datetime_is_refused_rather_than_silently_missing_holidays():
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 12, 1, 9, 30))
    with pytest.raises(TypeError):
        profile().due_date(datetime(2026, 3, 2, 10, 0))


def test_days_left_and_overdue():
    due = date(2026, 4, 1)
    assert days_left(due, date(2026, 3, 27)) == 5
    assert days_left(due, due) == 0
    assert days_left(due, date(2026, 4, 3)) == -2
    assert not is_overdue(due, date(2026, 3, 31))
    assert not is_overdue(due, due)
    assert is_overdue(due, date(2026, 4, 2))


# --- due dates ------------------------------------------------------------

def test_petition_thirty_calendar_days_first_day_not_counted():
    assert profile().due_date(date(2026, 3, 2)) == date(2026, 4, 1)


def test_first_day_counts_moves_due_date_one_day_earlier():
    assert profile(first_day_counts=True).due_date(date(2026, 3, 2)) == date(2026, 3, 31)


def test_calendar_term_ending_on_saturday_rolls_to_monday_only_when_enabled():
    registered = date(2026, 3, 5)  # + 30 days = Saturday 4 April 2026
    assert profile(rollover_to_working_day=True).due_date(registered) == date(2026, 4, 6)
    assert profile(rollover_to_working_day=False).due_date(registered) == date(2026, 4, 4)


def test_rollover_skips_the_whole_orthodox_easter_weekend():
    # + 30 days = Good Friday 10 April 2026; Easter Monday 13 April is off too.
    assert profile().due_date(date(2026, 3, 11)) == date(2026, 4, 14)


def test_fiscal_certificate_two_working_days_over_a_holiday_monday():
    cert = SlaProfile.from_dict(FISCAL_CERTIFICATE)
    # Friday 29 May 2026; Monday 1 June is Pentecost Monday.
    assert cert.due_date(date(2026, 5, 29)) == date(2026, 6, 3)
    # Friday 27 November 2026; 30 November and 1 December are both holidays.
    assert cert.due_date(date(2026, 11, 27)) == date(2026, 12, 3)
    assert working_days_between(date(2026, 5, 29), cert.due_date(date(2026, 5, 29))) == cert.term


def test_working_days_first_day_counts_only_if_it_is_a_working_day():
    cert = SlaProfile.from_dict({**FISCAL_CERTIFICATE, "first_day_counts": True})
    assert cert.due_date(date(2026, 5, 29)) == date(2026, 6, 2)  # Friday is day 1
    assert cert.due_date(date(2026, 5, 30)) == date(2026, 6, 3)  # Saturday is not


def test_unit_is_configurable():
    registered = date(2026, 3, 2)
    calendar = SlaProfile.from_dict({"term": 10, "unit": "calendar_days"})
    working = SlaProfile.from_dict({"term": 10, "unit": "working_days"})
    assert calendar.due_date(registered) == date(2026, 3, 12)
    assert working.due_date(registered) == date(2026, 3, 16)


def test_public_information_request_law_544_2001():
    # 10 days; neither the registration day nor the last day counts.
    info = SlaProfile.from_dict({
        "term": 10, "unit": "calendar_days", "first_day_counts": False,
        "last_day_counts": False, "rollover_to_working_day": True,
    })
    assert info.due_date(date(2026, 3, 2)) == date(2026, 3, 13)
    # Wednesday 4 March: the term is fulfilled on Sunday 15 March -> Monday.
    assert info.due_date(date(2026, 3, 4)) == date(2026, 3, 16)
    # Counting the last day would end one day earlier.
    plain = dataclasses.replace(info, last_day_counts=True)
    assert plain.due_date(date(2026, 3, 2)) == date(2026, 3, 12)


def test_extension_of_fifteen_days_accepted_sixteen_refused():
    p = profile()
    assert p.due_date(date(2026, 3, 2), extension_days=15) == date(2026, 4, 16)
    with pytest.raises(SlaProfileError, match="max_days"):
        p.due_date(date(2026, 3, 2), extension_days=16)


def test_extension_prolongs_the_term_and_then_rolls_over():
    # 30 + 10 days from 2 March = Saturday 11 April; Monday 13 is Easter Monday.
    assert profile().due_date(date(2026, 3, 2), extension_days=10) == date(2026, 4, 14)


def test_extension_in_working_days_and_times():
    p = SlaProfile.from_dict({
        "term": 2, "unit": "working_days",
        "extension": {"max_days": 3, "times": 2, "who": ["mayor"]},
    })
    assert p.due_date(date(2026, 5, 29), extension_days=6) == date(2026, 6, 11)
    with pytest.raises(SlaProfileError):
        p.due_date(date(2026, 5, 29), extension_days=7)


@pytest.mark.parametrize("bad", [-1, 1.5, "5", True])
def test_invalid_extension_values_are_refused(bad):
    with pytest.raises(SlaProfileError):
        profile().due_date(date(2026, 3, 2), extension_days=bad)


def test_profile_without_extension_refuses_any_extension():
    cert = SlaProfile.from_dict(FISCAL_CERTIFICATE)
    assert cert.due_date(date(2026, 3, 2), extension_days=0) == date(2026, 3, 4)
    with pytest.raises(SlaProfileError, match="extension"):
        cert.due_date(date(2026, 3, 2), extension_days=1)


# --- profile parsing ------------------------------------------------------

def test_from_dict_reads_all_fields():
    p = profile()
    assert p.term == 30 and p.unit == "calendar_days"
    assert p.first_day_counts is False and p.rollover_to_working_day is True
    assert p.extension.max_days == 15 and p.extension.times == 1
    assert p.extension.who == ("head_of_department",)
    assert p.reminders_days_before == (5, 1)
    assert p.label_for("en") == "30 days (OG 27/2002)"
    assert p.label_for("hu") == "30 de zile (OG 27/2002)"


def test_profile_is_frozen_and_hashable():
    p = profile()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.term = 10
    with pytest.raises(TypeError):
        p.label["ro"] = "altceva"
    assert p == profile()
    assert len({p, profile()}) == 1


@pytest.mark.parametrize("change, key", [
    ({"unit": "weeks"}, "unit"),
    ({"term": -3}, "term"),
    ({"term": 0}, "term"),
    ({"term": "30"}, "term"),
    ({"term": True}, "term"),
    ({"first_day_counts": "no"}, "first_day_counts"),
    ({"rollover_to_working_day": 1}, "rollover_to_working_day"),
    ({"extension": {"max_days": "15", "times": 1, "who": ["head_of_department"]}}, "extension.max_days"),
    ({"extension": {"max_days": 15, "times": 0, "who": ["head_of_department"]}}, "extension.times"),
    ({"extension": {"max_days": 15, "who": []}}, "extension.who"),
    ({"extension": {"times": 1, "who": ["mayor"]}}, "extension.max_days"),
    ({"extension": {"max_days": 15, "who": ["mayor"], "by": "x"}}, "extension.by"),
    ({"extension": [15]}, "extension"),
    ({"reminders_days_before": [5, -1]}, "reminders_days_before"),
    ({"label": {"ro": 30}}, "label"),
    ({"frist_day_counts": True}, "frist_day_counts"),
])
def test_bad_profiles_are_refused_naming_the_key(change, key):
    with pytest.raises(SlaProfileError) as info:
        profile(**change)
    assert f"'{key}'" in str(info.value)


@pytest.mark.parametrize("missing", ["term", "unit"])
def test_required_keys(missing):
    data = dict(PETITION)
    del data[missing]
    with pytest.raises(SlaProfileError, match=f"'{missing}'"):
        SlaProfile.from_dict(data)


def test_profile_error_is_a_value_error():
    assert issubclass(SlaProfileError, ValueError)
    with pytest.raises(ValueError):
        SlaProfile.from_dict([30, "calendar_days"])


def test_load_from_procedure_folder(tmp_path):
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(PETITION), encoding="utf-8")
    assert SlaProfile.load(path) == profile()
    assert SlaProfile.load(str(path)).due_date(date(2026, 3, 2)) == date(2026, 4, 1)


def test_load_errors_name_the_file_and_key(tmp_path):
    bad_key = tmp_path / "sla.json"
    bad_key.write_text(json.dumps({**PETITION, "unit": "weeks"}), encoding="utf-8")
    with pytest.raises(SlaProfileError) as info:
        SlaProfile.load(bad_key)
    assert str(bad_key) in str(info.value) and "'unit'" in str(info.value)

    broken = tmp_path / "broken.json"
    broken.write_text('{"term": 30,', encoding="utf-8")
    with pytest.raises(SlaProfileError, match="broken.json"):
        SlaProfile.load(broken)
