"""Issue 11, point 3: who must consent is decided when the round closes, against the Parties of that moment."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from tests.conftest import answer, complete_task, consent_all, one_task, open_consultation, start_amendment, \
    start_procedure

JOINER = dict(applicant='Gemeente Eindhoven', kind='gemeente', representative='R. Thijs',
              contribution='EUR 10.000 per jaar', endorses_goals=True)


def at(*args):
    return datetime(*args, tzinfo=AMSTERDAM)


def admit(app, code='eindhoven', effective='2021-04-12'):
    pid = start_procedure(app, 'toetreding', **JOINER)['id']
    open_consultation(app, pid)
    consent_all(app, pid)
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    complete_task(app, task['id'], 'projectleider', {'code': code, 'effective_date': effective,
                                                               'effective_date_reason': 'Nu al nodig in de ronde.'})
    return pid


@pytest.mark.rule('Consent round: consent of every Party at the moment the round closes')
@pytest.mark.rule('Consent round: a party that becomes a Party during a round is asked in it at once')
def test_a_party_admitted_during_a_round_is_asked_before_it_can_be_adopted(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(at(2021, 5, 20, 10, 0))
    admit(app, effective='2021-05-20')
    # asked at once, not only when the last request is answered (issue 11, point 3)
    task = one_task(app, party='eindhoven')
    shown = app.show(pid)
    # the round's deadline was 24 May: moved out so that the new Party has the minimum of 14 days
    assert task['due'] == shown['deadline'] == '2021-06-03T23:59:59+02:00'
    asked = [e for e in shown['timeline'] if e['event'] == 'parties_asked']
    assert asked[0]['data']['parties'] == ['eindhoven']
    assert any(m['event'] == 'parties_asked' for m in app.outbox())
    consent_all(app, pid, except_=('eindhoven',))
    assert app.show(pid)['status'] == 'running'  # not adopted without the new Party
    answer(app, 'eindhoven')
    assert app.show(pid)['outcome'] == 'adopted'
    assert 'eindhoven' in [s['party'] for s in app.appendices()[-1]['statements']]


@pytest.mark.rule('Consent round: consent of every Party at the moment the round closes')
def test_a_party_admitted_before_the_deadline_passes_is_named_as_missing(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(at(2021, 5, 20, 10, 0))
    admit(app, effective='2021-05-20')
    consent_all(app, pid, except_=('eindhoven', 'tilburg'))
    clock.set(at(2021, 6, 4, 0, 0, 1))
    app.tick()
    [passed] = [e for e in app.show(pid)['timeline'] if e['event'] == 'deadline_passed']
    assert sorted(passed['data']['missing']) == ['eindhoven', 'tilburg']


@pytest.mark.rule('Consent round: consent of every Party at the moment the round closes')
def test_an_objection_of_a_party_that_has_left_no_longer_counts(app, clock):
    start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.')  # takes effect on 12 July
    clock.set(at(2021, 7, 1, 9, 0))
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Wij zijn tegen.')
    clock.set(at(2021, 7, 12, 0, 0, 1))
    app.tick()
    consent_all(app, pid)
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('completed', 'adopted')
    statements = [s['party'] for s in app.appendices()[-1]['statements']]
    assert 'zayaz' not in statements and len(statements) == 16
    assert any(a['party'] == 'zayaz' for a in shown['answers'])  # its answer stays on record


@pytest.mark.rule('Consent round: consent of every Party at the moment the round closes')
def test_an_objection_of_a_current_party_still_blocks(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Wij zijn tegen.')
    consent_all(app, pid)
    assert app.show(pid)['status'] == 'running'  # issue 11: the round waits for talks until the deadline
    clock.set(at(2021, 5, 25, 0, 0, 1))
    app.tick()
    assert app.show(pid)['outcome'] == 'not_adopted'
