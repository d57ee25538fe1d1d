"""Issue 11, point 6: a deal that can end before its term, and `citydeal deal`."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import complete_task, fired, one_task, snapshot, start_amendment, start_procedure

CIRCUMSTANCES = 'De gemeente voegt de wijkaanpak samen met een regionaal programma.'


def party(app, code):
    return next(p for p in app.parties() if p['code'] == code)


def give_notice(app, clock, code='rotterdam'):
    clock.set(datetime(2021, 11, 30, 15, 0, tzinfo=AMSTERDAM))
    return start_procedure(app, 'opzegging', by=code, circumstances=CIRCUMSTANCES)['id']


def acknowledge(app, stands, reason=None):
    task = one_task(app, role='projectleider', name='opzegging_bevestigen')
    values = {'deal_stands': 'true' if stands else 'false'}
    if reason:
        values['reason'] = reason
    return complete_task(app, task['id'], 'projectleider', values)


@pytest.mark.rule('Opzegging lid 2: a deal that does not stand ends when the withdrawal takes effect')
def test_a_deal_that_does_not_stand_ends_for_all_when_the_withdrawal_takes_effect(app, clock):
    give_notice(app, clock)
    acknowledge(app, False, 'Rotterdam Zuid is de kern van werklijn 3 en 4.')
    amendment = start_amendment(app, by='arnhem')
    assert app.deal()['status'] == 'running'
    clock.set(datetime(2022, 2, 28, 0, 0, 1, tzinfo=AMSTERDAM))
    assert fired(app) == ['timer']
    deal = app.deal()
    assert (deal['status'], deal['ended_on'], deal['ended_reason']) == ('ended', '2022-02-28', 'deal_does_not_stand')
    assert app.show(amendment)['status'] == 'cancelled'
    # the withdrawal that ended it ran to its end
    assert (app.show(1)['status'], app.show(1)['outcome']) == ('completed', 'withdrawn')
    assert app.tasks() == []
    # Opzegging lid 3: every remaining party owes its contribution for the year of the notice
    owed = {o['party']: o for o in app.show(1)['contributions_owed']}
    assert owed['rotterdam']['year'] == 2021 and owed['bzk']['amount_eur'] == 100000
    assert owed['ocw']['amount_eur'] is None
    ended = [m for m in app.outbox() if m['event'] == 'deal_ended']
    assert {m['recipient'] for m in ended} >= {'bzk', 'tilburg', 'projectleider', 'secretaris'}
    assert 'Rotterdam Zuid is de kern' in ended[0]['text']


@pytest.mark.rule('Deal: after its end nothing starts or moves')
def test_after_the_end_nothing_starts_or_completes(app, clock):
    give_notice(app, clock)
    acknowledge(app, False, 'De deal rust op Rotterdam.')
    clock.set(datetime(2022, 3, 1, 10, 0, tzinfo=AMSTERDAM))
    app.tick()
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        start_amendment(app, by='arnhem')
    [problem] = refused.value.problems
    assert (problem.code, problem.params['ended_on'].isoformat()) == ('deal.ended_early', '2022-02-28')
    assert '2022-02-28' in problem.message()
    assert snapshot(app) == before


@pytest.mark.rule('Opzegging lid 2: a deal that does not stand ends when the withdrawal takes effect')
def test_acknowledged_after_the_withdrawal_took_effect_the_deal_ends_at_once(app, clock):
    give_notice(app, clock)
    clock.set(datetime(2022, 3, 2, 10, 0, tzinfo=AMSTERDAM))
    app.tick()
    assert party(app, 'rotterdam')['status'] == 'withdrawn'
    acknowledge(app, False, 'Zonder Rotterdam geen deal.')
    deal = app.deal()
    assert (deal['status'], deal['ended_on']) == ('ended', '2022-03-02')


@pytest.mark.rule('Opzegging lid 2: the deal stays in force for the others')
def test_a_deal_that_stands_goes_on(app, clock):
    give_notice(app, clock)
    acknowledge(app, True)
    clock.set(datetime(2022, 3, 1, 10, 0, tzinfo=AMSTERDAM))
    app.tick()
    assert app.deal()['status'] == 'running' and app.deal()['parties'] == 16


@pytest.mark.rule('Deal: fewer than two Partijen is no deal')
def test_the_deal_ends_when_fewer_than_two_parties_would_remain(app, clock):
    codes = [p['code'] for p in app.parties()]
    clock.set(datetime(2021, 11, 30, 15, 0, tzinfo=AMSTERDAM))
    for code in codes[:-1]:
        start_procedure(app, 'opzegging', by=code, circumstances=CIRCUMSTANCES)
    clock.set(datetime(2022, 3, 1, 10, 0, tzinfo=AMSTERDAM))
    app.tick()
    deal = app.deal()
    assert (deal['status'], deal['ended_reason'], deal['ended_on']) == ('ended', 'too_few_parties', '2022-02-28')
    assert (deal['phase'], deal['parties']) == ([], 0)  # an ended deal is in no phase and has no Parties
    assert party(app, codes[-1])['status'] == 'active'
    assert all(p['status'] == 'withdrawn' for p in app.parties()[:-1])


def test_the_deal_command_shows_term_status_phase_and_parties(app, clock):
    deal = app.deal()
    assert {k: deal[k] for k in ('name', 'start', 'end', 'last_day_in_force', 'status', 'ended_on', 'phase',
                                 'parties')} == {
        'name': 'City Deal Energieke wijken, duurzaam en sociaal', 'start': '2021-03-04', 'end': '2024-04-01',
        'last_day_in_force': '2024-03-31', 'status': 'running', 'ended_on': None, 'phase': [1], 'parties': 17}
    clock.set(datetime(2021, 7, 15, 10, 0, tzinfo=AMSTERDAM))
    assert app.deal()['phase'] == [1, 2]  # the text's phases overlap
    clock.set(datetime(2021, 3, 1, 10, 0, tzinfo=AMSTERDAM))
    assert app.deal()['status'] == 'not_started'
