"""Issue 11, point 7: accession as the text allows it: kinds from the deal file, a structured pledge,
the effective date with the yearly programme, joined_on and left_on."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import complete_task, consent_all, one_task, snapshot, start_procedure


def apply_(app, **overrides):
    values = dict(applicant='Provincie Gelderland', kind='provincie', representative='mevrouw P. Doornbos, gedeputeerde',
                  contribution='Inzet van het programma Wijkaanpak en EUR 25.000 per jaar', endorses_goals=True,
                  pledge_eur='25000', pledge_per='year')
    values.update(overrides)
    return start_procedure(app, 'toetreding', **values)['id']


def admit(app, pid, **values):
    complete_task(app, one_task(app, role='projectleider', name='criteria_toetsen')['id'], 'projectleider',
                  {'complete': 'true'})
    consent_all(app, pid)
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    return complete_task(app, task['id'], 'projectleider', dict({'code': 'gelderland'}, **values))


def party(app, code):
    return next(p for p in app.parties() if p['code'] == code)


@pytest.mark.rule('Toetreding: party kinds of the deal file')
def test_a_provincie_a_waterschap_and_a_company_may_apply_a_stad_may_not(app):
    for applicant, kind in (('Provincie Gelderland', 'provincie'), ('Waterschap Rivierenland', 'waterschap'),
                            ('Warmtebedrijf Oost', 'bedrijf')):
        apply_(app, applicant=applicant, kind=kind)
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        apply_(app, applicant='Stad X', kind='stad')
    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ('kind', 'field.not_a_choice')
    assert 'waterschap' in problem.message()
    assert snapshot(app) == before


@pytest.mark.rule('Toetreding: a financial pledge is owed like a founding contribution')
def test_a_yearly_pledge_is_owed_when_the_new_party_withdraws(app, clock):
    pid = apply_(app)
    admit(app, pid)
    gelderland = party(app, 'gelderland')
    assert (gelderland['annual_contribution_eur'], gelderland['joined_on'], gelderland['left_on']) == (
        25000, '2022-01-15', None)
    clock.set(datetime(2022, 3, 1, 10, 0, tzinfo=AMSTERDAM))
    notice = start_procedure(app, 'opzegging', by='gelderland', circumstances='Andere prioriteiten na de verkiezingen.')
    clock.set(datetime(2022, 6, 2, 10, 0, tzinfo=AMSTERDAM))
    app.tick()
    assert app.show(notice['id'])['contributions_owed'] == [{'party': 'gelderland', 'year': 2022, 'amount_eur': 25000}]
    assert party(app, 'gelderland')['left_on'] == '2022-06-01'
    assert 'Financiële toezegging: EUR 25.000 per jaar' in app.appendices()[0]['body']


@pytest.mark.rule('Toetreding: a financial pledge is owed like a founding contribution')
def test_a_pledge_needs_both_amount_and_period(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        apply_(app, pledge_per=None)
    assert [(p.field, p.code) for p in refused.value.problems] == [('pledge_per', 'toetreding.pledge_incomplete')]
    with pytest.raises(CommandRefused) as refused:
        apply_(app, pledge_eur='0')
    assert [(p.field, p.code) for p in refused.value.problems] == [('pledge_eur', 'toetreding.pledge_not_positive')]
    with pytest.raises(CommandRefused) as refused:
        apply_(app, pledge_per='month')
    assert [p.field for p in refused.value.problems] == ['pledge_per']
    assert snapshot(app) == before


@pytest.mark.rule('Toetreding: in principle with a new jaarprogramma')
def test_the_effective_date_defaults_to_the_next_yearly_programme(app):
    pid = apply_(app)
    admit(app, pid)
    gelderland = party(app, 'gelderland')
    assert (gelderland['joined_on'], gelderland['status']) == ('2022-01-15', 'admitted')
    assert 'gelderland' not in [t['party'] for t in app.tasks()]


@pytest.mark.rule('Toetreding: in principle with a new jaarprogramma')
def test_another_effective_date_needs_a_reason_which_is_recorded(app):
    pid = apply_(app)
    with pytest.raises(CommandRefused) as refused:
        admit(app, pid, effective_date='2021-09-01')
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ('effective_date_reason', 'toetreding.effective_date_reason_required')]
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    complete_task(app, task['id'], 'projectleider', {'code': 'gelderland', 'effective_date': '2021-09-01',
                                                     'effective_date_reason': 'Sluit aan bij de start van het schooljaar.'})
    admitted = next(e for e in app.show(pid)['timeline'] if e['event'] == 'party_admitted')
    assert admitted['data']['effective_date_reason'] == 'Sluit aan bij de start van het schooljaar.'
    assert party(app, 'gelderland')['joined_on'] == '2021-09-01'
