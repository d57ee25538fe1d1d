"""Who keeps access, and the public form that cannot be abused (issue 13, points 1, 3 and 7)."""
import json
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citydeal import cli
from engine import accounts
from engine.dates import AMSTERDAM
from engine.errors import CommandRefused, NotFound
from engine.models import AuditEntry, Delegation, OpenTask, OutboxMessage, PendingAccession, Procedure
from engine.unit_of_work import Actor
from tests.conftest import (
    one_task, open_consultation, start_amendment, start_procedure)
from tests.web_support import PASSWORD, Browser, fast_hashing

DEPUTY = 'plaatsvervanger@example.org'
REQUEST = {'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'representative': 'de heer R. Thijs',
           'email': 'r.thijs@eindhoven.example', 'contribution': 'EUR 10.000 per jaar', 'endorses_goals': 'on'}


@pytest.fixture
def make_site(make_site, app):
    app.add_user(DEPUTY, PASSWORD, name='mevrouw J. Jansen')
    return lambda **environment: make_site(**environment)




def browser(site, email=None, remote_addr=None):
    b = Browser(site.test_client())
    if remote_addr:
        b.client.environ_base['REMOTE_ADDR'] = remote_addr
    if email:
        assert b.post('/inloggen', {'email': email, 'password': PASSWORD}).status_code == 302
    return b


def count(app, model, *where):
    with Session(app.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def mails(app, event):
    with Session(app.engine) as session:
        return [(m.to_address, m.subject, m.body_text) for m in
                session.scalars(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id))]


def link_path(body):
    return re.search(r'http://localhost(/toetreden/bevestigen/\S+)', body).group(1)


# --- 3. the public form: confirmed by mail before anything starts -----------------------------------------------
def test_a_request_to_join_starts_nothing_until_the_applicant_confirms_it(site, app):
    audit_before, outbox_before = count(app, AuditEntry), count(app, OutboxMessage)
    page = browser(site).post('/toetreden', REQUEST)
    assert page.status_code == 200 and 'Bijna klaar' in page.get_data(as_text=True)
    assert count(app, Procedure) == 0 and count(app, OpenTask) == 0
    assert count(app, AuditEntry) == audit_before  # nothing in the deal's record
    [(to, subject, body)] = mails(app, 'accession_confirmation')
    assert count(app, OutboxMessage) == outbox_before + 1
    assert to == 'r.thijs@eindhoven.example' and subject.startswith('Bevestig uw verzoek tot toetreding')
    path = link_path(body)
    token = path.rsplit('/', 1)[1]
    with Session(app.engine) as session:
        [row] = session.scalars(select(PendingAccession)).all()
        assert token not in row.token_hash and len(row.token_hash) == 64  # kept hashed
        assert row.expires_dt - row.created_dt == timedelta(days=7)

    applicant = browser(site)
    shown = applicant.get(path)  # a mail scanner following the link confirms nothing
    assert shown.status_code == 200 and 'Gemeente Eindhoven' in shown.get_data(as_text=True)
    assert shown.headers['Cache-Control'] == 'no-store'
    assert count(app, Procedure) == 0
    done = applicant.post(path, {})
    assert done.status_code == 200 and 'is bevestigd' in done.get_data(as_text=True)
    [procedure] = app.procedures()
    assert procedure['type'] == 'toetreding'
    assert app.show(procedure['id'])['request']['email'] == 'r.thijs@eindhoven.example'
    assert one_task(app, role='projectleider')['name'] == 'criteria_toetsen'
    assert count(app, PendingAccession) == 0
    assert applicant.get(path).status_code == 404  # used up


def test_without_csrf_a_confirmation_is_refused(site, app):
    browser(site).post('/toetreden', REQUEST)
    path = link_path(mails(app, 'accession_confirmation')[0][2])
    assert browser(site).post(path, {}, with_token=False).status_code == 400
    assert count(app, Procedure) == 0


def test_the_email_address_is_required(site, app):
    page = browser(site).post('/toetreden', dict(REQUEST, email=''))
    assert page.status_code == 422 and 'id="email-error"' in page.get_data(as_text=True)
    assert count(app, PendingAccession) == 0 and mails(app, 'accession_confirmation') == []


def test_an_unconfirmed_request_expires_after_7_days_and_is_purged(site, app, clock):
    browser(site).post('/toetreden', REQUEST)
    path = link_path(mails(app, 'accession_confirmation')[0][2])
    clock.advance(days=7, seconds=-1)
    assert browser(site).get(path).status_code == 200
    clock.advance(seconds=1)
    assert browser(site).get(path).status_code == 404
    assert browser(site).post(path, {}, token_from='/toetreden').status_code == 404
    assert count(app, PendingAccession) == 1
    app.tick()  # the scheduler's tick purges it
    assert count(app, PendingAccession) == 0
    assert count(app, Procedure, Procedure.type == 'toetreding') == 0


def test_a_new_request_purges_the_expired_ones(site, app, clock):
    browser(site).post('/toetreden', REQUEST)
    clock.advance(days=8)
    browser(site).post('/toetreden', dict(REQUEST, applicant='Gemeente Breda'))
    with Session(app.engine) as session:
        assert [r.request['applicant'] for r in session.scalars(select(PendingAccession))] == ['Gemeente Breda']


def test_a_name_like_a_partys_is_refused_when_the_form_is_sent(site, app):
    b = browser(site)
    page = b.post('/toetreden', dict(REQUEST, applicant='Gemeente Utr\u0435cht'))
    assert page.status_code == 422 and 'Gemeente Utrecht' in page.get_data(as_text=True)
    assert b.post('/toetreden', dict(REQUEST, applicant='Gemeente Utrecht')).status_code == 422
    assert count(app, PendingAccession) == 0 and mails(app, 'accession_confirmation') == []


def test_a_confirmed_request_is_still_checked_against_the_register(site, app):
    browser(site).post('/toetreden', REQUEST)
    path = link_path(mails(app, 'accession_confirmation')[0][2])
    # meanwhile the same organisation's request was registered on paper
    start_procedure(app, 'toetreding', **{k: v for k, v in REQUEST.items() if k != 'endorses_goals'},
                    endorses_goals=True)
    page = browser(site).post(path, {})
    assert page.status_code == 422 and 'loopt al' in page.get_data(as_text=True)
    assert count(app, Procedure) == 1


def test_the_sixth_request_in_an_hour_from_one_address_gets_429_with_retry_after(site, app):
    b = browser(site)
    for n in range(5):
        assert b.post('/toetreden', dict(REQUEST, email=f'aanvrager{n}@example.org')).status_code == 200
    refused = b.post('/toetreden', dict(REQUEST, email='nog-een@example.org'))
    assert refused.status_code == 429
    assert 0 < int(refused.headers['Retry-After']) <= 3600
    assert 'Te veel verzoeken' in refused.get_data(as_text=True)
    assert count(app, PendingAccession) == 5
    assert b.get('/toetreden').status_code == 200  # the form itself stays readable


def test_requests_sent_at_the_same_moment_cannot_pass_the_limit_together(site, app):
    import threading
    tokens = [(browser(site), n) for n in range(12)]
    forms = [(b, dict(REQUEST, email=f'tegelijk{n}@example.org', csrf_token=b.token('/toetreden'))) for b, n in tokens]
    start, statuses = threading.Barrier(len(forms)), []

    def send(b, form):
        start.wait()
        statuses.append(b.client.post('/toetreden', data=form).status_code)
    threads = [threading.Thread(target=send, args=pair) for pair in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert count(app, PendingAccession) == 5


def test_a_refused_request_does_not_count(site, app):
    b = browser(site)
    for _ in range(6):
        assert b.post('/toetreden', dict(REQUEST, contribution='')).status_code == 422
    assert b.post('/toetreden', REQUEST).status_code == 200


def test_one_mailbox_gets_at_most_5_requests_an_hour_from_any_address(site, app):
    for n in range(5):
        b = browser(site, remote_addr=f'192.0.2.{n + 1}')
        assert b.post('/toetreden', REQUEST).status_code == 200
    b = browser(site, remote_addr='192.0.2.99')
    assert b.post('/toetreden', REQUEST).status_code == 429
    assert len(mails(app, 'accession_confirmation')) == 5


def test_behind_one_trusted_proxy_a_forged_forwarded_for_does_not_reset_the_count(make_site, app):
    site = make_site(CITYDEAL_TRUSTED_PROXIES='1')
    b = browser(site, remote_addr='10.0.0.1')  # the reverse proxy
    statuses = []
    for n in range(6):
        # The client writes a header of its own; the proxy appends the address it really saw.
        headers = {'X-Forwarded-For': f'198.51.100.{n}, 203.0.113.7'}
        token = b.token('/toetreden')
        statuses.append(b.client.post('/toetreden', data=dict(REQUEST, email=f'a{n}@example.org', csrf_token=token),
                                      headers=headers).status_code)
    assert statuses == [200] * 5 + [429]
    other = browser(site, remote_addr='10.0.0.1')
    token = other.token('/toetreden')
    assert other.client.post('/toetreden', data=dict(REQUEST, email='b@example.org', csrf_token=token),
                             headers={'X-Forwarded-For': '203.0.113.8'}).status_code == 200


# --- 7. delegations that can be managed ------------------------------------------------------------------------
def grant(app, party='zeist', starts_on=date(2021, 4, 12), ends_on=date(2021, 4, 30), deputy=DEPUTY):
    granting = next(a for a in app.users() if a.email == f'{party}@deal.example')
    return app.delegate(granting, deputy, starts_on, ends_on)


def test_a_role_account_or_another_partys_representative_cannot_be_made_a_deputy(site, app):
    for deputy in ('utrecht@deal.example', 'projectleider@deal.example', 'zeist@deal.example'):
        with pytest.raises(CommandRefused) as refused:
            grant(app, deputy=deputy)
        assert [p.field for p in refused.value.problems] == ['deputy']
        assert 'not a role account or a representative of a party' in str(refused.value)
    assert app.delegations() == []


def test_one_person_is_deputy_for_one_party_at_a_time(site, app):
    grant(app, party='tiwos', starts_on=date(2021, 4, 12), ends_on=date(2021, 5, 31))
    with pytest.raises(CommandRefused) as refused:
        grant(app, party='zayaz', starts_on=date(2021, 5, 1), ends_on=date(2021, 6, 30))
    assert [(p.field, p.code) for p in refused.value.problems] == [('deputy', 'delegation.deputy_of_another_party')]
    assert 'Tiwos' in str(refused.value)
    grant(app, party='zayaz', starts_on=date(2021, 6, 1), ends_on=date(2021, 6, 30))  # after it: allowed
    assert len(app.delegations()) == 2


def test_the_party_sees_its_delegations_and_revokes_one(site, app, consultation):
    current = grant(app)
    future = grant(app, starts_on=date(2021, 6, 1), ends_on=date(2021, 6, 30))
    grant(app, party='utrecht', starts_on=date(2021, 7, 1), ends_on=date(2021, 7, 31))
    zeist = browser(site, 'zeist@deal.example')
    page = zeist.get('/delegeren').get_data(as_text=True)
    assert 'mevrouw J. Jansen' in page and '1 juni 2021' in page and 'loopt' in page and 'komt nog' in page
    assert page.count('name="revoke"') == 2  # Utrecht's delegation is not Zeist's to see
    deputy = browser(site, DEPUTY)
    task = next(t['id'] for t in app.tasks(party='zeist'))
    assert deputy.get(f'/taken/{task}').status_code == 200

    assert zeist.post('/delegeren', {'revoke': str(current)}, with_token=False).status_code == 400  # CSRF
    assert browser(site, 'utrecht@deal.example').post('/delegeren', {'revoke': str(current)}).status_code == 404
    done = zeist.post('/delegeren', {'revoke': str(current)})
    assert done.status_code == 200 and 'is ingetrokken' in done.get_data(as_text=True)
    # the deputy now acts for no party today: the account is closed, its session sent to the login
    assert deputy.get(f'/taken/{task}').status_code == 302
    assert {d['id']: d['status'] for d in app.delegations('zeist')} == {current: 'ended', future: 'future'}
    again = zeist.post('/delegeren', {'revoke': str(current)})
    assert again.status_code == 422 and 'al beëindigd' in again.get_data(as_text=True)
    events = [(e['event'], e['data'].get('delegation_id')) for e in app.audit() if 'delegation' in e['event']]
    assert events == [('delegation_granted', current), ('delegation_granted', future),
                      ('delegation_granted', current + 2), ('delegation_revoked', current)]


@pytest.fixture
def consultation(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    return pid


def test_delegations_on_the_command_line(site, app, capsys):
    current = grant(app)
    assert cli.run(cli._parser().parse_args(['delegations', 'list', '--json']), app) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row == dict(row, id=current, party='zeist', deputy=DEPUTY, granted_by='de heer W. Catsburg, wethouder',
                       starts_on='2021-04-12', ends_on='2021-04-30', status='current')
    assert cli.run(cli._parser().parse_args(['delegations', 'revoke', str(current)]), app) == 0
    assert capsys.readouterr().out == f'delegation {current} revoked\n'
    entry = [e for e in app.audit() if e['event'] == 'delegation_revoked'][-1]
    assert (entry['person'], entry['acting_for']) == ('citydeal command line', 'admin')  # the operator, not the installer
    with pytest.raises(NotFound):
        app.revoke_delegation(999)


def test_a_delegation_is_audited_once_when_it_expires(site, app, clock):
    delegation = grant(app)
    assert 'zeist' in app.account(next(a.id for a in app.users() if a.email == DEPUTY)).acts_for
    clock.set(datetime(2021, 5, 1, 0, 0, 1, tzinfo=AMSTERDAM))
    deputy_id = next(a.id for a in app.users() if a.email == DEPUTY)
    assert app.account(deputy_id) is None  # no delegation today: the deputy's account is closed
    app.tick()
    app.tick()
    expired = [e for e in app.audit() if e['event'] == 'delegation_expired']
    assert [e['data']['delegation_id'] for e in expired] == [delegation]
    assert app.delegations()[0]['end_reason'] == 'expired'
    page = browser(site).post('/inloggen', {'email': DEPUTY, 'password': PASSWORD})
    assert page.status_code == 401 and 'geen toegang' in page.get_data(as_text=True)


# --- 1. access ends with membership ----------------------------------------------------------------------------
def api_get(site, path, token):
    return site.test_client().get(path, headers={'Authorization': f'Bearer {token}'})


def withdraw_weert(app, clock):
    start_procedure(app, 'opzegging', by='weert', circumstances='Bezuinigingen; de wijkaanpak stopt.')
    clock.set(datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    assert next(p for p in app.parties() if p['code'] == 'weert')['status'] == 'withdrawn'


def test_a_withdrawn_partys_people_lose_every_access(site, app, clock):
    secret = start_procedure(app, 'wijziging', by='bzk', title='Budgetverschuiving', text='Geheime bedragen',
                                 confidential=True)['id']
    old_token = app.create_token('weert@deal.example')[1]
    granted = grant(app, party='weert', ends_on=date(2021, 12, 31))
    session = browser(site, 'weert@deal.example')
    assert 'Geheime bedragen' in session.get(f'/procedures/{secret}').get_data(as_text=True)
    assert api_get(site, f'/api/v1/procedures/{secret}', old_token).status_code == 200

    withdraw_weert(app, clock)

    assert session.get(f'/procedures/{secret}').status_code == 302  # the session ended
    assert api_get(site, f'/api/v1/procedures/{secret}', old_token).status_code == 401
    login = browser(site).post('/inloggen', {'email': 'weert@deal.example', 'password': PASSWORD})
    assert login.status_code == 401 and 'geen toegang' in login.get_data(as_text=True)
    new_token = app.create_token('weert@deal.example')[1]
    assert api_get(site, f'/api/v1/procedures/{secret}', new_token).status_code == 401
    weert = next(a for a in app.users() if a.email == 'weert@deal.example')
    with pytest.raises(CommandRefused, match='party'):
        app.delegate(weert, DEPUTY, date(2021, 7, 12), date(2021, 7, 31))
    assert browser(site).get('/openbaar').status_code == 200  # public pages stay open, like to anyone

    assert {d['id']: d['end_reason'] for d in app.delegations()} == {granted: 'party_withdrawn'}
    events = [e for e in app.audit() if e['event'] in ('account_closed', 'api_token_revoked', 'delegation_revoked')]
    assert [e['event'] for e in events] == ['api_token_revoked', 'account_closed', 'delegation_revoked']
    assert events[1]['data'] == dict(events[1]['data'], email='weert@deal.example', party='weert')
    told = sorted(to for to, _, _ in mails(app, 'access_closed'))
    assert told == sorted(['weert@deal.example', DEPUTY])


def test_a_withdrawn_party_is_never_in_acts_for(site, app, clock):
    withdraw_weert(app, clock)
    with Session(app.engine) as session:
        deputy = accounts._user(session, DEPUTY)
        weert = accounts._user(session, 'weert@deal.example')
        # a row that names the withdrawn party as if it still ran (data from before this rule)
        session.add(Delegation(party_code='weert', deputy_id=deputy.id, granted_by_id=weert.id,
                               starts_on=date(2021, 7, 1), ends_on=date(2021, 12, 31),
                               created_dt=clock.now()))
        session.commit()
        assert accounts._account(session, deputy, date(2021, 7, 12)).acts_for == ()
        assert accounts._account(session, weert, date(2021, 7, 12)).acts_for == ()


def test_an_old_delegation_to_another_partys_representative_gives_nothing(site, app, clock):
    with Session(app.engine) as session:  # made before deputies had to have a personal account
        utrecht = accounts._user(session, 'utrecht@deal.example')
        zeist = accounts._user(session, 'zeist@deal.example')
        session.add(Delegation(party_code='zeist', deputy_id=utrecht.id, granted_by_id=zeist.id,
                               starts_on=date(2021, 4, 1), ends_on=date(2021, 12, 31), created_dt=clock.now()))
        session.commit()
        assert accounts._account(session, utrecht, date(2021, 4, 12)).acts_for == ('utrecht',)


def test_the_deal_ending_with_a_notice_pending_closes_the_partys_access(site, app, clock):
    start_procedure(app, 'opzegging', by='weert', circumstances='Bezuinigingen; de wijkaanpak stopt.')
    token = app.create_token('weert@deal.example')[1]
    clock.set(datetime(2021, 4, 12, 12, 0, tzinfo=AMSTERDAM))
    with Session(app.engine) as session:  # a short deal: its end falls within the notice period
        from engine.models import Deal
        session.scalars(select(Deal)).one().end_date = date(2021, 5, 1)
        session.commit()
    clock.set(datetime(2021, 5, 1, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    assert api_get(site, '/api/v1/partijen', token).status_code == 401
    assert [to for to, _, _ in mails(app, 'access_closed')] == ['weert@deal.example']
    assert any(e['event'] == 'account_closed' for e in app.audit())


def test_closing_is_audited_under_the_actor_that_fired_it(app, clock, monkeypatch):
    fast_hashing(monkeypatch)
    app.add_user('weert@deal.example', PASSWORD, party='weert')
    withdraw_weert(app, clock)
    entry = next(e for e in app.audit() if e['event'] == 'account_closed')
    assert (entry['person'], entry['acting_for']) == ('citydeal scheduler', 'scheduler')
    assert Actor  # the engine's actor type, passed in explicitly


def test_an_id_beyond_any_row_is_not_found_not_a_crash(site, app):
    zeist = browser(site, 'zeist@deal.example')
    assert zeist.post('/delegeren', {'revoke': '9' * 20}).status_code == 404
    assert zeist.post('/tokens', {'revoke': '9' * 20}).status_code == 404
