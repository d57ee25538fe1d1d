"""The deal register: the deal file as the text of the deal gives it."""
import tomllib
from copy import deepcopy
from datetime import date

import pytest

from engine import deal_file
from engine.errors import CommandRefused
from tests.conftest import DEAL_FILE

CODES = ('bzk ocw szw rotterdam s-hertogenbosch arnhem groningen utrecht nijmegen zeist weert '
         'amsterdam tilburg wonen-limburg zayaz tiwos platform31').split()


@pytest.fixture
def raw():
    return tomllib.loads(DEAL_FILE.read_text(encoding='utf-8'))


@pytest.mark.rule('Deal: 17 founding Partijen')
def test_the_deal_has_its_seventeen_parties_by_kind():
    deal = deal_file.load(DEAL_FILE)
    assert [p.code for p in deal.parties] == CODES
    kinds = [p.kind for p in deal.parties]
    assert (kinds.count('rijk'), kinds.count('gemeente'), kinds.count('woningcorporatie'),
            kinds.count('kennisinstelling')) == (3, 10, 3, 1)
    zeist = next(p for p in deal.parties if p.code == 'zeist')
    assert len(zeist.representatives) == 2


@pytest.mark.rule('Deal: term')
def test_term_and_constants_come_from_the_text():
    deal = deal_file.load(DEAL_FILE)
    assert (deal.start, deal.end) == (date(2021, 3, 4), date(2024, 4, 1))
    assert deal.citeertitel == 'City Deal Energieke wijken'
    assert (deal.terms.consultation_weeks, deal.terms.notice_months,
            deal.terms.continuation_months_before_end) == (6, 3, 2)
    assert [p.number for p in deal.phases] == [1, 2, 3, 4]


@pytest.mark.rule('Deal: contributions')
def test_contributions_per_party():
    parties = {p.code: p for p in deal_file.load(DEAL_FILE).parties}
    assert parties['bzk'].annual_contribution_eur == 100_000
    assert [c.amount_eur for c in parties['bzk'].contributions if c.per == 'once'] == [30_000]
    assert parties['szw'].annual_contribution_eur == 10_000
    assert all(parties[c].annual_contribution_eur == 10_000 for c in CODES[3:13])
    assert all(parties[c].annual_contribution_eur is None for c in ('ocw', 'wonen-limburg', 'zayaz', 'tiwos', 'platform31'))


def test_another_deal_file_of_the_same_form_works(raw):
    other = deepcopy(raw)
    other['deal'].update(slug='andere-deal', name='City Deal Andere', citeertitel='City Deal Andere',
                         start=date(2022, 1, 1), end=date(2025, 1, 1))
    other['phases'] = []
    other['parties'] = [{'code': 'a', 'name': 'A', 'kind': 'gemeente', 'email': 'a@a.example', 'representatives': ['X']},
                        {'code': 'b', 'name': 'B', 'kind': 'rijk', 'email': 'b@b.example', 'representatives': ['Y']}]
    deal = deal_file.parse(other)
    assert [p.code for p in deal.parties] == ['a', 'b']


def test_a_malformed_file_gets_one_message_per_bad_field(raw):
    raw['parties'][3]['kind'] = 'stad'
    raw['parties'][4]['code'] = 'bzk'
    del raw['deal']['name']
    raw['terms']['notice_months'] = '3'
    raw['deal']['end'] = raw['deal']['start']
    raw['parties'][2]['representatives'] = []
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == ['deal.end', 'deal.name', 'parties[2].representatives', 'parties[3].kind', 'parties[4].code',
                      'terms.notice_months']
    assert all(p.rule for p in refused.value.problems)


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / 'broken.toml'
    path.write_text('[deal\nname = ')
    with pytest.raises(CommandRefused, match='not valid TOML'):
        deal_file.load(path)


def test_the_stored_definition_reads_back_equal():
    deal = deal_file.load(DEAL_FILE)
    assert deal_file.from_canonical_json(deal.canonical_json) == deal


def test_ranges_and_zone_are_checked(raw):
    raw['terms']['consultation_weeks'] = 600000
    raw['deal']['timezone'] = 'Mars/Olympus_Mons'  # issue 11: any real zone is allowed, a made-up one is not
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    assert sorted(p.field for p in refused.value.problems) == ['deal.timezone', 'terms.consultation_weeks']


def test_unreadable_files_are_refused(tmp_path):
    latin1 = tmp_path / 'latin1.toml'
    latin1.write_bytes('naam = "Bosch\xe9"'.encode('latin-1'))
    for path in (tmp_path, latin1):
        with pytest.raises(CommandRefused, match='cannot read'):
            deal_file.load(path)


@pytest.mark.rule('Deal file: one message per problem')
def test_a_stricter_deal_file_gets_one_coded_message_per_problem(raw):
    raw['parties'][1]['name'] = raw['parties'][0]['name']
    raw['parties'][5]['kind'] = 'stad'
    raw['deal']['end'] = date(2022, 3, 1)
    raw['phases'] = [dict(raw['phases'][0]), dict(raw['phases'][1], number=1, end=date(2021, 12, 31)),
                     dict(raw['phases'][2], start=date(2021, 6, 1), end=date(2022, 6, 30))]
    raw['terms']['notice_months'] = 0
    raw['reminders']['before_deadline_days'] = [42, 2]
    raw['terms']['continuation_months_before_end'] = 24
    raw['terms']['annual_cycle_start'] = '02-30'
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    found = sorted((p.field, p.code) for p in refused.value.problems)
    assert found == [
        ('parties[1].name', 'deal_file.duplicate_party_name'),
        ('parties[5].kind', 'deal_file.unknown_party_kind'),
        ('phases[1].number', 'deal_file.duplicate_phase'),
        ('phases[2]', 'deal_file.phase_outside_term'),
        ('reminders.before_deadline_days[0]', 'deal_file.reminder_not_shorter'),
        ('terms.annual_cycle_start', 'deal_file.not_a_day'),
        ('terms.continuation_months_before_end', 'deal_file.continuation_not_shorter'),
        ('terms.notice_months', 'deal_file.zero_period'),
    ]
    assert all(p.rule and p.message() for p in refused.value.problems)


@pytest.mark.rule('Deal file: one message per problem')
def test_one_party_is_no_deal(raw):
    raw['parties'] = raw['parties'][:1]
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    assert [(p.field, p.code) for p in refused.value.problems] == [('parties', 'deal_file.too_few_parties')]


def test_phases_may_overlap_and_the_kinds_come_from_the_file(raw):
    deal = deal_file.parse(raw)
    assert deal.phases[0].end > deal.phases[1].start
    assert {'provincie', 'waterschap', 'bedrijf', 'maatschappelijke organisatie'} <= set(deal.party_kinds)
    raw['deal']['party_kinds'] = ['gemeente', 'rijk', 'woningcorporatie', 'kennisinstelling']
    assert deal_file.parse(raw).party_kinds == ('gemeente', 'rijk', 'woningcorporatie', 'kennisinstelling')


@pytest.mark.rule('Deal file: one message per problem')
def test_the_answer_window_is_its_own_term_and_no_shorter_than_the_minimum(raw):
    raw['terms'].pop('consent_period_weeks', None)
    raw['terms']['consultation_weeks'] = 4
    raw['reminders']['before_deadline_days'] = [30, 1]  # within the default 6-week answer window, not the 4 weeks
    assert deal_file.parse(raw).reminders.before_deadline_days == (30, 1)
    raw['terms']['consent_period_weeks'] = 1
    raw['reminders']['before_deadline_days'] = [2]
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ('terms.consent_period_weeks', 'deal_file.window_shorter_than_minimum')]
