"""Issue 11, points 3 and 4: an objection goes to the projectleider (wait for talks, or close) instead of
ending the round; a party that becomes a Party during a round is asked in it at once."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from engine.rights import Caller
from tests.conftest import (
    answer, complete_task, consent_all, fired, one_task, open_consultation, snapshot, start_amendment,
    start_procedure)

JOINER = dict(applicant='Gemeente Eindhoven', kind='gemeente', representative='R. Thijs',
              contribution='EUR 10.000 per jaar', endorses_goals=True, email='griffie@eindhoven.example')
#: the round opened on 12 April: six weeks, to the end of the day
DEADLINE = '2021-05-24T23:59:59+02:00'


def at(*args):
    return datetime(*args, tzinfo=AMSTERDAM)


def objection_task(app):
    return one_task(app, role='projectleider', name='bezwaar_behandelen')


def handle(app, choice, reason='Partijen gaan in gesprek.'):
    return complete_task(app, objection_task(app)['id'], 'projectleider', {'choice': choice, 'reason': reason})


def revise(app, pid, party, decision, statement=None):
    """``--revise``: the party's answer in procedure ``pid``."""
    answered = [e for e in app.audit(pid) if e['event'] == 'task_completed' and e['data'].get('party') == party]
    values = {'decision': decision, **({'statement': statement} if statement else {})}
    return app.revise(answered[-1]['data']['task_id'], Caller.operator_as(party), values)


def requests(app, pid):
    return [t for t in app.tasks() if t['procedure_id'] == pid and t['party']]


def events(app, pid, event):
    return [e for e in app.show(pid)['timeline'] if e['event'] == event]


def admit(app, code='eindhoven', effective='2021-05-20'):
    pid = start_procedure(app, 'toetreding', **JOINER)['id']
    open_consultation(app, pid)
    consent_all(app, pid)
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    complete_task(app, task['id'], 'projectleider', {'code': code, 'effective_date': effective,
                                                     'effective_date_reason': 'Nodig in de lopende ronde.'})
    return pid


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_an_objection_goes_to_the_projectleider_and_close_ends_the_round_not_adopted(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tiwos', 'objection', 'Past niet in ons investeringsplan.')
    shown = app.show(pid)
    assert shown['status'] == 'running'
    task = objection_task(app)
    assert task['due'] == shown['deadline'] == DEADLINE
    assert len(requests(app, pid)) == 15  # the others may still answer
    assert any(m['event'] == 'task_opened' and m['recipient'] == 'projectleider' for m in app.outbox())
    answer(app, 'zayaz', 'objection', 'Wij ook niet.')
    assert objection_task(app)['id'] == task['id']  # a second objection opens no second task
    before = snapshot(app)
    for values, code in [({'choice': 'close'}, 'objection.reason_required'),
                         ({'choice': 'later', 'reason': 'x'}, 'field.not_a_choice')]:
        with pytest.raises(CommandRefused) as refused:
            complete_task(app, task['id'], 'projectleider', values)
        assert [p.code for p in refused.value.problems] == [code]
    assert snapshot(app) == before
    result = handle(app, 'close', 'Geen zicht op overeenstemming.')
    assert (result['status'], result['outcome']) == ('completed', 'not_adopted')
    assert app.tasks() == []  # the open requests lapsed
    assert len(events(app, pid, 'consent_request_lapsed')) == 14
    [not_adopted] = events(app, pid, 'amendment_not_adopted')
    assert not_adopted['data']['reason'] == 'Geen zicht op overeenstemming.'
    assert sorted(not_adopted['data']['objections']) == ['tiwos', 'zayaz']
    told = [m for m in app.outbox() if m['event'] == 'objection_closed']
    assert len(told) >= 17 and 'Geen zicht op overeenstemming.' in told[0]['text']


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_an_objection_revised_to_consent_lets_the_task_lapse_and_the_amendment_pass(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Eerst overleggen.')
    task = objection_task(app)
    revise(app, pid, 'zayaz', 'consent', 'Na overleg: akkoord.')
    assert [t for t in app.tasks() if t['name'] == 'bezwaar_behandelen'] == []
    [lapsed] = events(app, pid, 'objection_task_lapsed')
    assert lapsed['data']['task_id'] == task['id']
    assert consent_all(app, pid)['outcome'] == 'adopted'


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_wait_keeps_the_round_open_when_all_answered_and_talks_can_still_turn_it(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Eerst overleggen.')
    with pytest.raises(CommandRefused) as refused:
        handle(app, 'wait', ' ')
    assert [p.code for p in refused.value.problems] == ['objection.reason_required']
    handle(app, 'wait')
    consent_all(app, pid)
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('running', None)  # every Party answered, the objection stands
    assert app.tasks() == []
    revise(app, pid, 'zayaz', 'consent', 'Na overleg: akkoord.')
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('completed', 'adopted')
    zayaz = next(s for s in app.appendices()[-1]['statements'] if s['party'] == 'zayaz')
    assert zayaz['statement'] == 'Na overleg: akkoord.'


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_an_objection_that_still_stands_at_the_deadline_means_not_adopted(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tiwos', 'objection', 'Past niet.')
    consent_all(app, pid)
    assert app.show(pid)['status'] == 'running'
    # a Party that consented may still object while the round waits: no second task
    revise(app, pid, 'arnhem', 'objection', 'Bij nader inzien ook niet.')
    assert len([t for t in app.tasks() if t['name'] == 'bezwaar_behandelen']) == 1
    clock.set(at(2021, 5, 25, 0, 0, 1))
    assert 'timer' in fired(app)
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('completed', 'not_adopted')
    assert [t for t in app.tasks() if t['procedure_id'] == pid] == []  # the projectleider's task lapsed too
    assert any(m['event'] == 'amendment_not_adopted' for m in app.outbox())
    with pytest.raises(CommandRefused) as refused:
        revise(app, pid, 'tiwos', 'consent')
    assert [p.code for p in refused.value.problems] == ['revise.round_closed']


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_a_new_objection_while_the_round_waits_opens_a_task_again(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Eerst overleggen.')
    handle(app, 'wait')
    consent_all(app, pid)
    revise(app, pid, 'arnhem', 'objection', 'Wij willen ook praten.')
    assert objection_task(app)['due'] == DEADLINE
    handle(app, 'close', 'Twee bezwaren; geen overeenstemming.')
    assert app.show(pid)['outcome'] == 'not_adopted'


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_an_objection_to_an_accession_goes_to_the_projectleider_too(app):
    pid = start_procedure(app, 'toetreding', **JOINER)['id']
    open_consultation(app, pid)
    answer(app, 'amsterdam', 'objection', 'Eerst evalueren.')
    assert app.show(pid)['status'] == 'running'
    result = handle(app, 'close', 'De coalitie evalueert eerst.')
    assert result['outcome'] == 'refused'
    assert 'eindhoven' not in [p['code'] for p in app.parties()]
    told = {m['recipient'] for m in app.outbox() if m['event'] == 'objection_closed'}
    assert {'applicant', 'amsterdam', 'projectleider'} <= told


@pytest.mark.rule('Consent round: a party that becomes a Party during a round is asked in it at once')
def test_a_party_admitted_during_a_round_is_asked_at_once(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz')
    clock.set(at(2021, 5, 20, 10, 0))
    accession = admit(app)
    [task] = [t for t in requests(app, pid) if t['party'] == 'eindhoven']
    shown = app.show(pid)
    # the deadline was 24 May: moved out so that the new Party has the minimum of 14 days, for everyone
    assert task['due'] == shown['deadline'] == '2021-06-03T23:59:59+02:00'
    assert {t['due'] for t in requests(app, pid)} == {shown['deadline']}
    assert len(requests(app, pid)) == 16  # 15 still open, and the new Party's
    [asked] = events(app, pid, 'parties_asked')
    assert asked['data']['parties'] == ['eindhoven'] and asked['data']['old_deadline'].startswith('2021-05-24')
    told = {m['recipient'] for m in app.outbox() if m['event'] == 'parties_asked'}
    assert {'eindhoven', 'zayaz', 'projectleider'} <= told
    assert any(m['event'] == 'consultation_opened' and m['recipient'] == 'eindhoven' for m in app.outbox())
    [joined] = events(app, accession, 'party_joined')
    assert joined['data']['asked_in'] == [pid]
    consent_all(app, pid)
    assert app.show(pid)['outcome'] == 'adopted'
    assert 'eindhoven' in [s['party'] for s in app.appendices()[-1]['statements']]


@pytest.mark.rule('Consent round: a party that becomes a Party during a round is asked in it at once')
def test_a_party_joining_on_a_later_day_is_asked_on_that_day_by_the_scheduler(app, clock):
    clock.set(at(2021, 5, 20, 10, 0))
    admit(app, effective='2021-06-01')
    clock.set(at(2021, 5, 25, 10, 0))
    pid = start_amendment(app)
    open_consultation(app, pid)
    assert 'eindhoven' not in [t['party'] for t in requests(app, pid)]  # not yet a Party
    clock.set(at(2021, 6, 1, 0, 0, 1))
    assert 'party_joins' in fired(app)
    [task] = [t for t in requests(app, pid) if t['party'] == 'eindhoven']
    assert task['due'] == app.show(pid)['deadline'] == '2021-07-06T23:59:59+02:00'  # enough time: not moved
    assert 'party_joins' not in fired(app)  # once
    [asked] = events(app, pid, 'parties_asked')
    assert asked['data']['old_deadline'] == asked['data']['new_deadline']


@pytest.mark.rule('Consent round: a party that becomes a Party during a round is asked in it at once')
@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_a_party_admitted_while_the_round_waits_for_talks_is_asked_and_talks_go_on(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Eerst overleggen.')
    handle(app, 'wait')
    consent_all(app, pid)
    clock.set(at(2021, 5, 20, 10, 0))
    admit(app)
    [task] = requests(app, pid)
    assert (task['party'], task['due']) == ('eindhoven', '2021-06-03T23:59:59+02:00')
    answer(app, 'eindhoven')
    assert app.show(pid)['status'] == 'running'  # the objection still stands
    revise(app, pid, 'zayaz', 'consent', 'Na overleg: akkoord.')
    shown = app.show(pid)
    assert shown['outcome'] == 'adopted'
    assert len(app.appendices()[-1]['statements']) == 18


@pytest.mark.rule('Consent round: an objection goes to the projectleider, who waits for talks until the deadline or closes')
def test_when_the_objecting_party_leaves_its_task_lapses(app, clock):
    start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.')  # takes effect on 12 July
    clock.set(at(2021, 7, 1, 9, 0))
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Wij zijn tegen.')
    handle(app, 'wait')
    consent_all(app, pid)
    assert app.show(pid)['status'] == 'running'
    clock.set(at(2021, 7, 12, 0, 0, 1))
    app.tick()
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('completed', 'adopted')
