"""Properties that must hold for any input: the deal-file loader and the legal date arithmetic."""
import calendar
import tomllib
from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import deal_file
from engine.dates import AMSTERDAM, add_months, end_of_day, start_of_day
from engine.errors import CommandRefused
from tests.conftest import DEAL_FILE

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@given(days, st.integers(min_value=-240, max_value=240))
def test_month_arithmetic_clamps_and_never_overflows(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, calendar.monthrange(result.year, result.month)[1])


@given(days)
def test_a_notice_on_a_month_end_takes_effect_on_a_month_end_or_the_same_day(day):
    effective = add_months(day, 3)
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        assert effective.day in (day.day, calendar.monthrange(effective.year, effective.month)[1])


@given(days)
def test_every_day_runs_from_midnight_to_its_last_second_in_amsterdam(day):
    start, end = start_of_day(day), end_of_day(day)
    assert start.tzinfo == timezone.utc and start.astimezone(AMSTERDAM).time().isoformat() == '00:00:00'
    assert end.astimezone(AMSTERDAM).date() == day and end.astimezone(AMSTERDAM).strftime('%H:%M:%S') == '23:59:59'
    # 23, 24 or 25 hours: the days the clocks change are shorter or longer
    assert end - start + timedelta(seconds=1) in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(AMSTERDAM)))
def test_an_instant_lies_within_its_own_day(moment):
    day = moment.date()
    assert start_of_day(day) <= moment.astimezone(timezone.utc) <= end_of_day(day) + timedelta(seconds=1)


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30), days, st.lists(st.integers(), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(['deal', 'terms', 'roles', 'reminders', 'phases', 'parties']), st.data())
def test_a_damaged_deal_file_is_refused_with_named_fields_or_loads_never_crashes(section, data):
    raw = tomllib.loads(DEAL_FILE.read_text(encoding='utf-8'))
    target = raw[section]
    if isinstance(target, list):
        target = target[data.draw(st.integers(min_value=0, max_value=len(target) - 1))]
    if isinstance(target, dict) and target:
        key = data.draw(st.sampled_from(sorted(target)))
        if isinstance(target[key], dict):
            target = target[key]
            key = data.draw(st.sampled_from(sorted(target)))
        target[key] = data.draw(scalars)
    try:
        deal_file.parse(raw)
    except CommandRefused as refused:
        assert refused.problems and all(p.field and p.message for p in refused.problems)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), scalars, max_size=5))
def test_any_document_at_all_is_refused_cleanly(document):
    try:
        deal_file.parse(document)
    except CommandRefused as refused:
        assert refused.problems
    else:
        raise AssertionError('an arbitrary document loaded as a deal')
