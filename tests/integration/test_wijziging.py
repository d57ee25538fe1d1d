"""Wijziging: an amendment needs the written consent of all parties within the consultation."""
from datetime import timedelta

import pytest

from engine.errors import CommandRefused
from tests.conftest import (
    answer, complete_task, consent_all, fired, one_task, open_consultation, snapshot, start_amendment,
    start_procedure)


@pytest.mark.rule('Wijzigingen lid 1: consent of all Partijen')
@pytest.mark.rule('Wijzigingen lid 3: amendment and consent statements become a bijlage')
def test_all_parties_consent_and_the_amendment_becomes_an_appendix(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    asked = {t['party'] for t in app.tasks() if t['party']}
    assert len(asked) == 16 and 'bzk' not in asked  # the request is the requester's consent
    result = consent_all(app, pid)
    assert result == dict(result, procedure_id=pid, status='completed', outcome='adopted')
    [appendix] = app.appendices()
    assert appendix['number'] == 1 and appendix['title'] == 'Wijziging: Werklijn 5: warmte'
    assert len(appendix['statements']) == 17
    zeist = next(s for s in appendix['statements'] if s['party'] == 'zeist')
    assert zeist == {'party': 'zeist', 'representative': 'de heer W. Catsburg, wethouder',
                     'statement': 'zeist stemt in', 'date': '2021-04-12', 'confidential': False}
    assert app.tasks() == []


@pytest.mark.rule('Wijzigingen lid 2: consultation within 6 weeks of reaching projectleider and secretaris')
def test_request_is_registered_with_projectleider_and_secretaris_and_a_six_week_deadline(app):
    pid = start_amendment(app)
    shown = app.show(pid)
    assert shown['deadline'] == '2021-05-24T23:59:59+02:00'  # 12 April + 6 weeks, the whole day
    registered = [e for e in shown['timeline'] if e['event'] == 'request_registered']
    assert registered[0]['data']['reaches'] == ['projectleider', 'secretaris']
    task = one_task(app, role='projectleider', name='consultatie_openen')
    assert task['name'] == 'consultatie_openen' and task['due'] == shown['deadline']


@pytest.mark.rule('Wijzigingen lid 1: consent of all Partijen')
def test_one_objection_means_not_adopted(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tiwos', 'objection', 'Past niet in ons investeringsplan.')
    assert consent_all(app, pid)['outcome'] is None  # issue 11: the round waits for talks on the objection
    decide = one_task(app, role='projectleider', name='bezwaar_behandelen')
    result = complete_task(app, decide['id'], 'projectleider', {'choice': 'close', 'reason': 'Geen overeenstemming.'})
    assert result['outcome'] == 'not_adopted'
    assert app.appendices() == []
    objection = next(a for a in app.show(pid)['answers'] if a['party'] == 'tiwos')
    assert objection['statement'] == 'Past niet in ons investeringsplan.'


def test_an_objection_without_statement_is_refused_and_changes_nothing(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='weert')
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        complete_task(app, task['id'], 'weert', {'decision': 'objection', 'statement': '   '})
    assert [p.field for p in refused.value.problems] == ['statement']
    assert snapshot(app) == before


@pytest.mark.rule('Wijzigingen lid 2: answers after the deadline are refused')
def test_an_answer_after_the_deadline_is_refused_even_before_the_timer_fired(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='arnhem')
    clock.set(clock.now() + timedelta(weeks=7))
    before = snapshot(app)
    with pytest.raises(CommandRefused, match='deadline'):
        complete_task(app, task['id'], 'arnhem', {'decision': 'consent'})
    assert snapshot(app) == before


@pytest.mark.rule('Wijzigingen lid 2: projectleider extends or closes at the deadline')
def test_deadline_with_answers_missing_then_extension_then_adoption(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz', 'tilburg'))
    clock.set(clock.now() + timedelta(weeks=6, days=1))
    assert fired(app) == ['timer']
    decide = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    assert decide['name'] == 'verlengen_of_afsluiten'
    assert app.tasks(party='zayaz') == []
    with pytest.raises(CommandRefused) as refused:
        complete_task(app, decide['id'], 'projectleider', {'choice': 'extend'})
    assert sorted(p.field for p in refused.value.problems) == ['new_deadline', 'reason']
    complete_task(app, decide['id'], 'projectleider', {'choice': 'extend', 'new_deadline': '2021-06-30',
                                                  'reason': 'Zayaz en Tilburg vergaderen in juni.'})
    assert sorted(t['party'] for t in app.tasks() if t['party']) == ['tilburg', 'zayaz']
    shown = app.show(pid)
    assert shown['deadline'] == '2021-06-30T23:59:59+02:00'
    extended = next(e for e in shown['timeline'] if e['event'] == 'consultation_extended')
    assert extended['data']['reason'] == 'Zayaz en Tilburg vergaderen in juni.'
    answer(app, 'zayaz')
    assert answer(app, 'tilburg')['outcome'] == 'adopted'
    assert len(app.appendices()[0]['statements']) == 17


@pytest.mark.rule('Wijzigingen lid 2: projectleider extends or closes at the deadline')
def test_deadline_then_close_means_not_adopted(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz',))
    clock.set(clock.now() + timedelta(weeks=7))
    app.tick()
    decide = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    result = complete_task(app, decide['id'], 'projectleider', {'choice': 'close'})
    assert result['outcome'] == 'not_adopted'


def test_an_extension_must_lie_after_the_current_deadline(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(clock.now() + timedelta(weeks=7))
    app.tick()
    decide = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    with pytest.raises(CommandRefused, match='new_deadline'):
        complete_task(app, decide['id'], 'projectleider', {'choice': 'extend', 'new_deadline': '2021-05-20', 'reason': 'x'})


@pytest.mark.rule('Continuation: extending the term is an amendment')
def test_an_adopted_end_date_amendment_changes_the_term(app):
    pid = start_amendment(app, new_end_date='2025-04-01')
    open_consultation(app, pid)
    consent_all(app, pid)
    assert app.deal()['end'] == '2025-04-01'
    assert 'eindigt op 2025-04-01' in app.appendices()[0]['body']


def test_a_task_that_is_not_yours_already_done_or_unknown_is_refused(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='utrecht')
    before = snapshot(app)
    with pytest.raises(CommandRefused, match='not for amsterdam'):
        complete_task(app, task['id'], 'amsterdam', {'decision': 'consent'})
    with pytest.raises(CommandRefused, match='not for projectleider'):
        complete_task(app, task['id'], 'projectleider', {'decision': 'consent'})
    with pytest.raises(CommandRefused, match='no open task'):
        complete_task(app, '00000000-0000-0000-0000-000000000000', 'utrecht', {'decision': 'consent'})
    with pytest.raises(CommandRefused, match='no party'):
        complete_task(app, task['id'], 'eindhoven', {'decision': 'consent'})
    assert snapshot(app) == before
    complete_task(app, task['id'], 'utrecht', {'decision': 'consent'})
    with pytest.raises(CommandRefused, match='already answered'):
        complete_task(app, task['id'], 'utrecht', {'decision': 'consent'})


def test_bad_requests_are_refused_with_the_field_named(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        start_procedure(app, 'wijziging', by='bzk', title=' ', text='')
    assert sorted(p.field for p in refused.value.problems) == ['text', 'title']
    with pytest.raises(CommandRefused, match='by: no party'):
        start_procedure(app, 'wijziging', by='nobody', title='t', text='t')
    with pytest.raises(CommandRefused, match='new_end_date'):
        start_procedure(app, 'wijziging', by='bzk', title='t', text='t', new_end_date='2024-04-01')
    with pytest.raises(CommandRefused, match='new_end_date'):
        start_procedure(app, 'wijziging', by='bzk', title='t', text='t', new_end_date='april')
    assert snapshot(app) == before


def test_the_decision_must_be_consent_or_objection(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='zeist')
    with pytest.raises(CommandRefused, match='decision'):
        complete_task(app, task['id'], 'zeist', {'decision': 'maybe'})
    with pytest.raises(CommandRefused, match='statement'):
        complete_task(app, task['id'], 'zeist', {'decision': 'consent', 'statement': 'x' * 20001})


def test_a_deputy_acting_for_a_party_is_recorded_namens(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='zeist')
    complete_task(app, task['id'], 'zeist', {'decision': 'consent'}, person='mevrouw J. Jansen, plaatsvervanger')
    answer_ = next(a for a in app.show(pid)['answers'] if a['party'] == 'zeist')
    assert answer_['person'] == 'mevrouw J. Jansen, plaatsvervanger'
    entry = [e for e in app.audit(pid) if e['event'] == 'task_completed'][-1]
    assert (entry['person'], entry['acting_for']) == ('mevrouw J. Jansen, plaatsvervanger', 'zeist')
