"""Issue 11, point 5: a new version of the text voids the answers to the earlier one; consent is bound to the text."""
import hashlib
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from engine.rights import Caller
from tests.conftest import answer, consent_all, one_task, open_consultation, snapshot, start_amendment


def sha(text):
    return hashlib.sha256(text.strip().encode('utf-8')).hexdigest()


def new_version(app, pid, acting_for, **values):
    return app.new_version(pid, Caller.operator_as(acting_for), values)


@pytest.mark.rule('Consent round: consent is bound to the text; a new version asks every Party again')
def test_a_new_version_voids_the_answers_and_asks_everyone_again(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'zayaz', 'objection', 'Werklijn 5 is te vaag.')
    answer(app, 'arnhem')
    old_task = one_task(app, party='tilburg')
    clock.set(datetime(2021, 4, 20, 10, 0, tzinfo=AMSTERDAM))
    new_version(app, pid, 'bzk', text='  Voeg werklijn 5 (warmtenetten in de wijk) toe.  ',
                motivation='Na overleg met Zayaz verduidelijkt.')
    shown = app.show(pid)
    assert [v['number'] for v in shown['versions']] == [1, 2]
    assert shown['versions'][1]['text'] == 'Voeg werklijn 5 (warmtenetten in de wijk) toe.'
    assert shown['versions'][1]['sha256'] == sha('Voeg werklijn 5 (warmtenetten in de wijk) toe.')
    assert shown['versions'][0]['sha256'] == sha('Voeg werklijn 5 toe.')
    assert set(shown['versions'][1]) >= {'number', 'text', 'sha256', 'created_dt'}
    asked = [t for t in app.tasks() if t['party']]
    assert len(asked) == 16 and old_task['id'] not in [t['id'] for t in asked]  # everyone but the requester
    assert {t['due'] for t in asked} == {'2021-06-01T23:59:59+02:00'}  # a fresh window: 20 April + 6 weeks
    decisions = {a['party']: a['decision'] for a in shown['answers']}
    assert decisions['zayaz'] == decisions['arnhem'] == 'void' and decisions['bzk'] == 'consent'
    [event] = [e for e in shown['timeline'] if e['event'] == 'new_version']
    assert sorted(event['data']['voided']) == ['arnhem', 'zayaz']
    told = [m for m in app.outbox() if m['event'] == 'new_version']
    assert len(told) >= 17
    consent_all(app, pid)
    shown = app.show(pid)
    assert shown['outcome'] == 'adopted'
    assert {a['text_sha256'] for a in shown['answers']} == {shown['versions'][1]['sha256']}
    [appendix] = app.appendices()
    assert appendix['text_sha256'] == shown['versions'][1]['sha256']
    assert 'warmtenetten' in appendix['body'] and len(appendix['statements']) == 17
    assert 'te vaag' not in str(appendix['statements'])  # only the statements given to the final version


@pytest.mark.rule('Consent round: consent is bound to the text; a new version asks every Party again')
def test_who_may_put_a_new_version_and_when(app):
    pid = start_amendment(app)
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        new_version(app, pid, 'bzk', text='Nieuw.')  # not yet open
    assert [p.code for p in refused.value.problems] == ['new_version.round_closed']
    open_consultation(app, pid)
    before = snapshot(app)
    for acting_for, values, code in [('arnhem', {'text': 'Nieuw.'}, 'new_version.not_yours'),
                                     ('bzk', {'text': 'Voeg werklijn 5 toe. '}, 'new_version.same_text'),
                                     ('bzk', {'text': ' '}, 'field.required')]:
        with pytest.raises(CommandRefused) as refused:
            new_version(app, pid, acting_for, **values)
        assert [p.code for p in refused.value.problems] == [code]
    assert snapshot(app) == before
    new_version(app, pid, 'projectleider', text='Voeg werklijn 5 en 6 toe.', title='Werklijnen 5 en 6')
    shown = app.show(pid)
    assert shown['request']['title'] == 'Werklijnen 5 en 6'
    assert 'bzk' in [t['party'] for t in app.tasks() if t['party']]  # the requester is asked too now


@pytest.mark.rule('Consent round: consent is bound to the text; a new version asks every Party again')
def test_a_deputy_for_several_parties_puts_it_for_the_requester(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    deputy = Caller(person='mevrouw D. Plaats', parties=('zeist', 'bzk'))  # bzk asked for the amendment
    app.new_version(pid, deputy, {'text': 'Voeg werklijn 5 en 6 toe.'})
    [event] = [e for e in app.show(pid)['timeline'] if e['event'] == 'new_version']
    assert (event['person'], event['acting_for']) == ('mevrouw D. Plaats', 'bzk')
    with pytest.raises(CommandRefused) as refused:  # for neither requester nor projectleider: not theirs
        app.new_version(pid, Caller(person='X', parties=('zeist', 'tilburg')), {'text': 'Anders.'})
    assert [p.code for p in refused.value.problems] == ['new_version.not_yours']
