from datetime import date, datetime, timezone

import pytest

from engine.dates import add_months, end_of_day, start_of_day


@pytest.mark.rule('Opzegging lid 1: 3 months notice')
@pytest.mark.parametrize('start, months, expected', [
    (date(2021, 11, 30), 3, date(2022, 2, 28)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2021, 8, 31), 3, date(2021, 11, 30)),
    (date(2021, 3, 4), 3, date(2021, 6, 4)),
    (date(2024, 4, 1), -2, date(2024, 2, 1)),
    (date(2021, 12, 31), 2, date(2022, 2, 28)),
])
def test_month_arithmetic_clamps_at_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_days_begin_and_end_in_amsterdam_across_daylight_saving():
    assert start_of_day(date(2021, 3, 28)) == datetime(2021, 3, 27, 23, 0, tzinfo=timezone.utc)
    assert end_of_day(date(2021, 3, 28)) == datetime(2021, 3, 28, 21, 59, 59, tzinfo=timezone.utc)
    assert end_of_day(date(2021, 10, 31)) == datetime(2021, 10, 31, 22, 59, 59, tzinfo=timezone.utc)
