"""Toetreding: a new party joins only with everyone's consent and a stated contribution."""
import pytest

from engine.errors import CommandRefused
from tests.conftest import answer, complete_task, consent_all, one_task, snapshot, start_procedure


def apply_(app, **overrides):
    values = dict(applicant='Gemeente Eindhoven', kind='gemeente', representative='de heer R. Thijs, wethouder',
                  contribution='EUR 10.000 per jaar en 2 dagen per maand inzet', endorses_goals=True)
    values.update(overrides)
    return start_procedure(app, 'toetreding', **values)['id']


def check_criteria(app, complete=True, reason=''):
    task = one_task(app, role='projectleider')
    assert task['name'] == 'criteria_toetsen'
    return complete_task(app, task['id'], 'projectleider', {'complete': str(complete).lower(), 'reason': reason})


@pytest.mark.rule('Toetreding lid 1: with the consent of all Partijen')
@pytest.mark.rule('Toetreding lid 3: status of Partij')
@pytest.mark.rule('Toetreding lid 4: request and statements as appendices')
def test_all_consent_admits_the_applicant_as_a_party(app, clock):
    pid = apply_(app)
    check_criteria(app)
    assert len([t for t in app.tasks() if t['party']]) == 17
    consent_all(app, pid)
    task = one_task(app, role='projectleider')
    assert task['name'] == 'partij_vastleggen'
    # issue 11: a day other than the next yearly programme's start needs a reason
    result = complete_task(app, task['id'], 'projectleider', {'code': 'eindhoven', 'effective_date': '2021-07-01',
                                                              'effective_date_reason': 'Start van Fase 2.'})
    assert result['outcome'] == 'admitted'
    eindhoven = next(p for p in app.parties() if p['code'] == 'eindhoven')
    # issue 11: admitted, but not yet active before the day it joins
    assert (eindhoven['status'], eindhoven['joined_on'], eindhoven['kind']) == ('admitted', '2021-07-01', 'gemeente')
    clock.set(clock.now().replace(month=7, day=1))
    assert next(p for p in app.parties() if p['code'] == 'eindhoven')['status'] == 'active'
    [appendix] = app.appendices()
    assert 'Concrete bijdrage: EUR 10.000 per jaar' in appendix['body']
    assert len(appendix['statements']) == 17


@pytest.mark.rule('Toetreding lid 1: with the consent of all Partijen')
def test_one_objection_refuses_the_accession(app):
    pid = apply_(app)
    check_criteria(app)
    answer(app, 'amsterdam', 'objection', 'Eerst evalueren.')
    assert consent_all(app, pid)['outcome'] is None  # issue 11: the round waits for talks on the objection
    decide = one_task(app, role='projectleider', name='bezwaar_behandelen')
    result = complete_task(app, decide['id'], 'projectleider', {'choice': 'close', 'reason': 'Eerst evalueren.'})
    assert result['outcome'] == 'refused'
    assert 'eindhoven' not in [p['code'] for p in app.parties()]


@pytest.mark.rule('Deel 2, Aansluiten nieuwe deelnemers: criteria')
def test_an_incomplete_request_is_returned_with_a_reason(app):
    pid = apply_(app)
    with pytest.raises(CommandRefused, match='reason'):
        check_criteria(app, complete=False)
    result = check_criteria(app, complete=False, reason='Inzet met mensen ontbreekt.')
    assert result['outcome'] == 'refused'
    returned = next(e for e in app.show(pid)['timeline'] if e['event'] == 'accession_returned')
    assert returned['data']['reason'] == 'Inzet met mensen ontbreekt.'


@pytest.mark.rule('Toetreding lid 2: the request must state the concrete contribution')
def test_contribution_and_endorsement_are_required(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        apply_(app, contribution='  ', endorses_goals=False, kind='stad')
    assert sorted(p.field for p in refused.value.problems) == ['contribution', 'endorses_goals', 'kind']
    with pytest.raises(CommandRefused, match='already a party'):
        apply_(app, applicant='Gemeente Utrecht')
    assert snapshot(app) == before


def test_the_new_code_must_be_free_and_the_date_inside_the_term(app):
    pid = apply_(app)
    check_criteria(app)
    consent_all(app, pid)
    task = one_task(app, role='projectleider')
    with pytest.raises(CommandRefused, match='code'):
        complete_task(app, task['id'], 'projectleider', {'code': 'utrecht', 'effective_date': '2021-07-01'})
    with pytest.raises(CommandRefused, match='effective_date'):
        complete_task(app, task['id'], 'projectleider', {'code': 'eindhoven', 'effective_date': '2024-05-01'})
    with pytest.raises(CommandRefused, match='code'):
        complete_task(app, task['id'], 'projectleider', {'code': 'Eind hoven', 'effective_date': '2021-07-01'})
