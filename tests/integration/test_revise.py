"""Issue 11, point 4: an answer can be revised while its round is open; both stay in the history."""
import pytest

from engine.errors import CommandRefused
from engine.rights import Caller
from tests.conftest import (
    answer, complete_task, consent_all, one_task, open_consultation, snapshot, start_amendment)


def codes(refused):
    return [(p.code, p.field) for p in refused.value.problems]


def revise(app, task_id, party, values):
    return app.revise(task_id, Caller.operator_as(party), values)


@pytest.mark.rule('Consent round: an answer can be revised while the round is open')
def test_an_objection_revised_to_consent_lets_the_amendment_pass(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='zayaz')
    answer(app, 'zayaz', 'objection', 'Eerst overleggen.')
    before = snapshot(app)
    with pytest.raises(CommandRefused, match='--revise') as refused:
        complete_task(app, task['id'], Caller.operator_as('zayaz'), {'decision': 'consent'})
    assert codes(refused) == [('task.answered_use_revise', 'revise')]
    with pytest.raises(CommandRefused) as refused:
        revise(app, task['id'], 'arnhem', {'decision': 'consent'})
    assert snapshot(app) == before
    with pytest.raises(CommandRefused) as refused:
        revise(app, task['id'], 'zayaz', {'decision': 'objection'})
    assert [f for _, f in codes(refused)] == ['statement'] and snapshot(app) == before
    done = revise(app, task['id'], 'zayaz', {'decision': 'consent', 'statement': 'Na overleg: akkoord.'})
    assert done['status'] == 'running'
    consent_all(app, pid)
    shown = app.show(pid)
    assert shown['outcome'] == 'adopted'
    [revised] = [e for e in shown['timeline'] if e['event'] == 'answer_revised']
    assert revised['data']['old']['decision'] == 'objection' and revised['data']['new'] == {
        'decision': 'consent', 'statement': 'Na overleg: akkoord.'}
    zayaz = next(s for s in app.appendices()[-1]['statements'] if s['party'] == 'zayaz')
    assert zayaz['statement'] == 'Na overleg: akkoord.'


@pytest.mark.rule('Consent round: an answer can be revised while the round is open')
def test_a_consent_revised_to_objection_blocks_and_a_closed_round_is_not_revised(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='zayaz')
    open_task = one_task(app, party='arnhem')
    with pytest.raises(CommandRefused) as refused:
        revise(app, open_task['id'], 'arnhem', {'decision': 'consent'})
    assert codes(refused) == [('revise.not_answered', 'revise')]
    answer(app, 'zayaz')
    revise(app, task['id'], 'zayaz', {'decision': 'objection', 'statement': 'Toch niet.'})
    decide = one_task(app, role='projectleider', name='bezwaar_behandelen')  # issue 11: the objection goes there
    consent_all(app, pid)
    assert app.show(pid)['status'] == 'running'  # every Party answered; the round waits for talks
    complete_task(app, decide['id'], 'projectleider', {'choice': 'close', 'reason': 'Geen overeenstemming.'})
    assert app.show(pid)['outcome'] == 'not_adopted'
    with pytest.raises(CommandRefused) as refused:
        revise(app, task['id'], 'zayaz', {'decision': 'consent'})
    assert codes(refused) == [('revise.round_closed', 'task')]
