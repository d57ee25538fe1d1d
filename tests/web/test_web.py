"""The web app through Flask's test client: who may do what, and how bad input is met."""
import re

import pytest
from sqlalchemy import text

from tests.conftest import (
    complete_task, open_consultation, snapshot, start_amendment, start_procedure)
from tests.web_support import browser




def visible_text(html):
    """The words a person reads: no tags, attributes, or the hidden token."""
    html = re.sub(r'<(script|style)[^>]*>.*?</\1>', ' ', html, flags=re.S)
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html))


@pytest.fixture
def consultation(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    return pid


def task_id(app, party):
    return next(t['id'] for t in app.tasks(party=party))


# --- rights: every role (and anonymous) against every page -------------------------------------------------
WHO = ('anonymous', 'zeist', 'projectleider', 'secretaris', 'auditor', 'admin')
PAGES = {
    '/openbaar': dict(anonymous=200, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/toetreden': dict(anonymous=200, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/taken': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/procedures': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/procedures/1': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/procedures/999': dict(anonymous=302, zeist=404, projectleider=404, secretaris=404, auditor=404, admin=404),
    '/deal': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/audit': dict(anonymous=302, zeist=403, projectleider=403, secretaris=403, auditor=200, admin=403),
    '/overzicht': dict(anonymous=302, zeist=403, projectleider=200, secretaris=200, auditor=200, admin=403),
    '/toegankelijkheid': dict(anonymous=200, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    '/audit/export.csv': dict(anonymous=302, zeist=403, projectleider=403, secretaris=403, auditor=200, admin=403),
    '/audit/export.json': dict(anonymous=302, zeist=403, projectleider=403, secretaris=403, auditor=200, admin=403),
    # issue 11: the projectleider and secretaris register a party's paper request or notice there
    '/procedures/nieuw/wijziging': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=403,
                                        admin=403),
    '/procedures/nieuw/opzegging': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=403,
                                        admin=403),
    '/procedures/nieuw/jaarcyclus': dict(anonymous=302, zeist=403, projectleider=200, secretaris=403, auditor=403,
                                         admin=403),
    '/procedures/nieuw/voortzetting': dict(anonymous=302, zeist=403, projectleider=200, secretaris=403,
                                           auditor=403, admin=403),
    '/procedures/nieuw/iets': dict(anonymous=302, zeist=404, projectleider=404, secretaris=404, auditor=404, admin=404),
    '/delegeren': dict(anonymous=302, zeist=200, projectleider=403, secretaris=403, auditor=403, admin=403),
    '/tokens': dict(anonymous=302, zeist=200, projectleider=200, secretaris=200, auditor=200, admin=200),
    'TASK_ZEIST': dict(anonymous=302, zeist=200, projectleider=403, secretaris=403, auditor=403, admin=403),
    'TASK_TILBURG': dict(anonymous=302, zeist=403, projectleider=403, secretaris=403, auditor=403, admin=403),
    '/taken/00000000-0000-0000-0000-000000000000': dict(anonymous=302, zeist=404, projectleider=404, secretaris=404,
                                                        auditor=404, admin=404),
}


@pytest.mark.parametrize('who', WHO)
def test_every_page_for_every_role(site, app, consultation, who):
    b = browser(site, None if who == 'anonymous' else who)
    for page, expected in PAGES.items():
        path = {'TASK_ZEIST': f"/taken/{task_id(app, 'zeist')}",
                'TASK_TILBURG': f"/taken/{task_id(app, 'tilburg')}"}.get(page, page)
        assert b.get(path).status_code == expected[who], (page, who)


@pytest.mark.parametrize('who, path, data', [
    ('auditor', '/procedures/nieuw/wijziging', {'title': 't', 'text': 'x'}),
    ('admin', '/procedures/nieuw/opzegging', {'circumstances': 'x', 'understood': 'on'}),
    ('zeist', '/procedures/nieuw/jaarcyclus', {'year': '2021'}),
    ('secretaris', '/procedures/nieuw/voortzetting', {}),
    ('auditor', '/delegeren', {'deputy': 'admin@deal.example', 'starts_on': '2021-04-12', 'ends_on': '2021-05-01'}),
])
def test_forbidden_actions_change_nothing(site, app, who, path, data):
    b = browser(site, who)
    before = snapshot(app)
    assert b.post(path, data, token_from='/taken').status_code == 403
    assert snapshot(app) == before


def test_only_the_party_itself_may_answer_its_task(site, app, consultation):
    b = browser(site, 'zeist')
    before = snapshot(app)
    other = task_id(app, 'tilburg')
    assert b.post(f'/taken/{other}/bevestigen', {'decision': 'consent'}, token_from='/taken').status_code == 403
    assert snapshot(app) == before


# --- the decision, from form to receipt -------------------------------------------------------------------------
@pytest.mark.rule('Wijzigingen lid 1: consent of all Partijen')
def test_a_representative_decides_confirms_and_gets_a_receipt(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    page = b.get('/taken').get_data(as_text=True)
    assert 'Instemming of bezwaar geven' in page and '<span class="count">1</span>' in page
    form = b.get(f'/taken/{task}').get_data(as_text=True)
    assert 'Voeg werklijn 5 toe.' in form  # the full request before the decision
    confirm = b.post(f'/taken/{task}', {'decision': 'consent', 'statement': 'Zeist stemt in.'})
    assert confirm.status_code == 200 and 'Bevestigen en vastleggen' in confirm.get_data(as_text=True)
    # an answer to a consent request can be revised while the round is open: the page does not say otherwise
    assert 'kunt u uw besluit daarna nog herzien' in confirm.get_data(as_text=True)
    assert 'niet meer wijzigen' not in confirm.get_data(as_text=True)
    assert app.show(consultation)['answers'][-1]['party'] != 'zeist'  # nothing recorded before confirming
    done = b.post(f'/taken/{task}/bevestigen', {'decision': 'consent', 'statement': 'Zeist stemt in.'},
                  token_from=f'/taken/{task}')
    assert done.status_code == 302 and '/ontvangstbewijs/' in done.headers['Location']
    receipt = b.get(done.headers['Location']).get_data(as_text=True)
    assert 'Zeist stemt in.' in receipt and 'de heer W. Catsburg, wethouder' in receipt
    answer = next(a for a in app.show(consultation)['answers'] if a['party'] == 'zeist')
    assert (answer['statement'], answer['person']) == ('Zeist stemt in.', 'de heer W. Catsburg, wethouder')
    assert browser(site, 'tilburg').get(done.headers['Location']).status_code == 403


def test_an_objection_without_statement_comes_back_with_the_message_at_the_field(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    before = snapshot(app)
    for path in (f'/taken/{task}', f'/taken/{task}/bevestigen'):
        page = b.post(path, {'decision': 'objection', 'statement': ' '}, token_from=f'/taken/{task}')
        html = page.get_data(as_text=True)
        assert page.status_code == 422
        assert 'id="statement-error"' in html and 'Bij bezwaar is een schriftelijke toelichting verplicht.' in html
        assert 'aria-invalid="true"' in html
    assert snapshot(app) == before


def test_an_answered_task_and_a_passed_deadline_are_refused_in_dutch(site, app, clock, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    token = b.token(f'/taken/{task}')
    complete_task(app, task, 'zeist', {'decision': 'consent'})
    late = b.client.post(f'/taken/{task}/bevestigen', data={'decision': 'consent', 'csrf_token': token})
    # The answer as a receipt, by name and with the date in words; not an error with a code and a timestamp.
    shown = late.get_data(as_text=True)
    assert late.status_code == 409 and 'Het antwoord namens Gemeente Zeist is vastgelegd op 12 april 2021 om' in shown
    assert 'error-summary' not in shown and not re.search(r'\d{4}-\d{2}-\d{2}', visible_text(shown))
    assert b.get(f'/taken/{task}').status_code == 200
    other = browser(site, 'weert')
    task = task_id(app, 'weert')
    token = other.token(f'/taken/{task}')
    clock.advance(weeks=7)
    before = snapshot(app)
    page = other.client.post(f'/taken/{task}/bevestigen', data={'decision': 'consent', 'csrf_token': token})
    assert page.status_code == 422 and 'De termijn is verstreken' in page.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_missing_or_forged_csrf_token_is_refused(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    before = snapshot(app)
    for data in ({'decision': 'consent'}, {'decision': 'consent', 'csrf_token': 'forged'}):
        page = b.client.post(f'/taken/{task}/bevestigen', data=data)
        assert page.status_code == 400 and 'Formulier verlopen' in page.get_data(as_text=True)
    assert snapshot(app) == before


def test_oversized_input_is_refused(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    before = snapshot(app)
    long_statement = b.post(f'/taken/{task}/bevestigen', {'decision': 'objection', 'statement': 'x' * 20001},
                            token_from=f'/taken/{task}')
    assert long_statement.status_code == 422 and 'Te lang' in long_statement.get_data(as_text=True)
    huge = b.post(f'/taken/{task}/bevestigen', {'decision': 'objection', 'statement': 'x' * 300_000},
                  token_from=f'/taken/{task}')
    assert huge.status_code == 413
    assert snapshot(app) == before


# --- logging in ---------------------------------------------------------------------------------------------
def test_a_wrong_password_and_an_unknown_account_get_the_same_message(site):
    b = browser(site)
    wrong = b.post('/inloggen', {'email': 'zeist@deal.example', 'password': 'fout'})
    unknown = b.post('/inloggen', {'email': 'niemand@deal.example', 'password': 'fout'})
    assert wrong.status_code == unknown.status_code == 401
    message = 'Het e-mailadres of het wachtwoord klopt niet.'
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_logins_are_rate_limited(site):
    b = browser(site)
    for _ in range(5):
        b.post('/inloggen', {'email': 'zeist@deal.example', 'password': 'fout'})
    from tests.web_support import PASSWORD
    page = b.post('/inloggen', {'email': 'zeist@deal.example', 'password': PASSWORD})
    assert page.status_code == 401 and 'Te veel pogingen' in page.get_data(as_text=True)


def test_a_disabled_account_is_logged_out(site, app):
    b = browser(site, 'zeist')
    app.disable_user('zeist@deal.example')
    assert b.get('/taken').status_code == 302


def test_cookies_and_security_headers(site):
    b = browser(site)
    page = b.get('/openbaar')
    csp = page.headers['Content-Security-Policy']
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp and 'unsafe-inline' not in csp
    assert page.headers['X-Frame-Options'] == 'DENY' and page.headers['X-Content-Type-Options'] == 'nosniff'
    login = b.post('/inloggen', {'email': 'zeist@deal.example', 'password': 'een-lang-wachtwoord-2021'})
    cookie = login.headers['Set-Cookie']
    assert 'HttpOnly' in cookie and 'SameSite=Lax' in cookie


def test_a_next_link_off_the_site_is_ignored(site):
    b = browser(site)
    from tests.web_support import PASSWORD
    page = b.post('/inloggen?next=https://evil.example/', {'email': 'zeist@deal.example', 'password': PASSWORD},
                  token_from='/inloggen')
    assert page.headers['Location'] == '/taken'


# --- pages ------------------------------------------------------------------------------------------------
def test_starting_a_withdrawal_from_the_web(site, app):
    b = browser(site, 'tiwos')
    page = b.post('/procedures/nieuw/opzegging', {'circumstances': 'Fusie.'})
    assert page.status_code == 422 and 'id="understood-error"' in page.get_data(as_text=True)
    done = b.post('/procedures/nieuw/opzegging', {'circumstances': 'Fusie.', 'understood': 'on'})
    assert done.status_code == 302
    assert next(p for p in app.parties() if p['code'] == 'tiwos')['status'] == 'withdrawing'
    entry = [e for e in app.audit() if e['event'] == 'procedure_started'][-1]
    assert (entry['person'], entry['acting_for']) == ('de heer R. Scherpenisse', 'tiwos')


def test_a_deputy_acts_namens_the_party_in_the_delegated_period(site, app, consultation):
    app.add_user('plaatsvervanger@zeist.example', 'een-lang-wachtwoord-2021', name='mevrouw J. Jansen')
    zeist = browser(site, 'zeist')
    assert zeist.post('/delegeren', {'deputy': 'plaatsvervanger@zeist.example', 'starts_on': '2021-04-12',
                                     'ends_on': '2021-04-30'}).status_code == 200
    deputy = browser(site)
    deputy.post('/inloggen', {'email': 'plaatsvervanger@zeist.example', 'password': 'een-lang-wachtwoord-2021'})
    task = task_id(app, 'zeist')
    assert deputy.get(f'/taken/{task}').status_code == 200
    done = deputy.post(f'/taken/{task}/bevestigen', {'decision': 'consent'}, token_from=f'/taken/{task}')
    assert done.status_code == 302
    answer = next(a for a in app.show(consultation)['answers'] if a['party'] == 'zeist')
    assert answer['person'] == 'mevrouw J. Jansen'


def test_the_procedure_page_shows_the_deadline_answers_timeline_and_diagram(site, app, consultation):
    page = browser(site, 'secretaris').get(f'/procedures/{consultation}').get_data(as_text=True)
    assert 'nog 42 dagen' in page and 'Verzoek geregistreerd bij projectleider' in page
    # The tally, with names: the requester's own request counts as its consent.
    assert re.search(r'1 van 17 ingestemd</strong>, 0 bezwaren, wacht op: Gemeente Amsterdam, Gemeente Arnhem, '
                     r'.*Gemeente Zeist\.', page)
    svg = re.search(r'<svg[^>]*class="bpmn".*?</svg>', page, re.S).group(0)
    assert 'class="shape active"' in svg and 'class="shape done"' in svg and '<title id="bpmn-title">' in svg


def test_confidential_texts_stay_off_the_public_pages(site, app):
    pid = start_procedure(app, 'wijziging', by='bzk', title='Budgetverschuiving', text='Geheime bedragen',
                          confidential=True)['id']
    open_consultation(app, pid)
    for task in app.tasks():
        if task['party']:
            complete_task(app, task['id'], task['party'], {'decision': 'consent', 'statement': 'Akkoord geheim'})
    public = browser(site).get('/openbaar').get_data(as_text=True)
    assert 'Budgetverschuiving' in public and 'Geheime bedragen' not in public and 'Akkoord geheim' not in public
    inside = browser(site, 'zeist').get('/deal').get_data(as_text=True)
    assert 'Geheime bedragen' in inside


def test_english_is_available(site):
    page = browser(site).get('/openbaar?lang=en').get_data(as_text=True)
    assert 'lang="en"' in page and 'Key terms' in page and 'Parties' in page


def test_the_public_accession_form(site, app):
    b = browser(site)
    page = b.post('/toetreden', {'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'representative': 'R. Thijs',
                                 'contribution': ''})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="contribution-error"' in html and 'id="endorses_goals-error"' in html
    done = b.post('/toetreden', {'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'representative': 'R. Thijs',
                                 'email': 'r.thijs@eindhoven.example', 'contribution': 'EUR 10.000 per jaar',
                                 'endorses_goals': 'on'})
    assert done.status_code == 200 and 'Bijna klaar' in done.get_data(as_text=True)
    # Confirmed by mail first (tests/test_access.py): nothing has started yet.
    assert [p for p in app.procedures() if p['type'] == 'toetreding'] == []


def test_the_auditor_filters_and_exports(site, app, consultation):
    b = browser(site, 'auditor')
    page = b.get('/audit?event=request_registered').get_data(as_text=True)
    assert 'in orde: ' in page and '1–1 van 1' in page
    assert b.get('/audit?since=gisteren').status_code == 400


def test_a_copied_session_dies_with_the_logout(site):
    b = browser(site, 'zeist')
    cookie = b.client.get_cookie('session').value
    b.post('/uitloggen', {}, token_from='/taken')
    thief = browser(site)
    thief.client.set_cookie('session', cookie)
    assert thief.get('/taken').status_code == 302
    assert browser(site, 'zeist').get('/taken').headers['Cache-Control'] == 'no-store'


def test_delegation_reveals_no_accounts_and_is_for_a_period(site, app):
    b = browser(site, 'zeist')
    for deputy in ('nobody@deal.example', 'projectleider@deal.example', 'utrecht@deal.example'):
        page = b.post('/delegeren', {'deputy': deputy, 'starts_on': '2021-04-12', 'ends_on': '2021-05-01'})
        assert 'id="deputy-error"' in page.get_data(as_text=True)
        assert 'Geen account van een plaatsvervanger met dit e-mailadres.' in page.get_data(as_text=True)
    app.add_user('plaatsvervanger@zeist.example', 'een-lang-wachtwoord-2021', name='mevrouw J. Jansen')
    page = b.post('/delegeren', {'deputy': 'plaatsvervanger@zeist.example', 'starts_on': '2021-04-12',
                                 'ends_on': '2030-01-01'})
    assert page.status_code == 422 and 'ten hoogste 366 dagen' in page.get_data(as_text=True)


def test_an_answered_task_shows_who_answered_only_to_its_party(site, app, consultation):
    task = task_id(app, 'zeist')
    complete_task(app, task, 'zeist', {'decision': 'consent', 'statement': 'Akkoord.'})
    page = browser(site, 'zeist').get(f'/taken/{task}')
    assert page.status_code == 200 and 'Akkoord.' in page.get_data(as_text=True)
    assert browser(site, 'bzk').get(f'/taken/{task}').status_code == 403


def test_control_characters_are_refused(site):
    b = browser(site, 'zeist')
    page = b.post('/procedures/nieuw/wijziging', {'title': 'Titel\u202egnippel', 'text': 'x'})
    assert page.status_code == 422 and 'stuur- of richtingstekens' in page.get_data(as_text=True)


def test_api_tokens_are_made_and_revoked_in_the_web_app(site, app):
    b = browser(site, 'zeist')
    page = b.post('/tokens', {'name': 'laptop'}).get_data(as_text=True)
    token = re.search(r'<code>(cdt_[^<]+)</code>', page).group(1)
    api = site.test_client()
    assert api.get('/api/v1/partijen', headers={'Authorization': f'Bearer {token}'}).status_code == 200
    [row] = app.tokens('zeist@deal.example')
    other = browser(site, 'tilburg')
    assert other.post('/tokens', {'revoke': str(row['id'])}).status_code == 404  # not theirs
    b.post('/tokens', {'revoke': str(row['id'])})
    assert api.get('/api/v1/partijen', headers={'Authorization': f'Bearer {token}'}).status_code == 401


# --- issue 14: names, dates, lists, the tally, the record --------------------------------------------------
@pytest.mark.parametrize('who, landing', [('projectleider', '/overzicht'), ('secretaris', '/overzicht'),
                                          ('auditor', '/audit'), ('zeist', '/taken')])
def test_each_role_lands_where_its_work_is(site, who, landing):
    assert browser(site).login(who).headers['Location'] == landing


def test_the_overview_lists_running_procedures_by_deadline_with_progress(site, app, clock, consultation):
    from tests.conftest import answer
    answer(app, 'tilburg', 'objection', 'Past niet.')
    clock.advance(days=1)
    later = start_amendment(app, by='tilburg')
    open_consultation(app, later)
    for who in ('zeist', 'admin'):
        assert browser(site, who).get('/overzicht').status_code == 403
    b = browser(site, 'secretaris')
    page = visible_text(b.get('/overzicht').get_data(as_text=True))
    assert page.index(f'{consultation}: Werklijn 5') < page.index(f'{later}: Werklijn 5')  # nearest deadline first
    assert '2 van 17 geantwoord' in page and 'Gemeente Tilburg' in page and '1–2 van 2' in page
    assert 'nog 42 dagen' in page and not re.search(r'\d{4}-\d{2}-\d{2}', page)
    only = visible_text(b.get('/overzicht?q=Tilburg').get_data(as_text=True))
    assert f'{later}: Werklijn 5' in only and f'{consultation}: Werklijn 5' not in only and '1–1 van 1' in only
    assert '0 van 0' in visible_text(b.get('/overzicht?type=opzegging').get_data(as_text=True))
    clock.advance(days=36)  # the first deadline is 5 days away, the second 6
    soon = visible_text(b.get('/overzicht?due_soon=1').get_data(as_text=True))
    assert '1–2 van 2' in soon and 'nog 5 dagen' in soon
    clock.advance(days=6)
    overdue = visible_text(b.get('/overzicht?overdue=1').get_data(as_text=True))
    assert '1–1 van 1' in overdue and 'termijn verstreken' in overdue and '1 dag verlopen' in overdue
    assert b.get('/overzicht?type=iets').status_code == 400 and b.get('/overzicht?page=0').status_code == 400


def test_long_lists_come_in_pages_of_fifty_with_counts_kept_in_the_url(site, app, consultation):
    from tests.conftest import consent_all
    for by in ('tilburg', 'weert', 'zeist'):
        open_consultation(app, start_amendment(app, by=by))
    consent_all(app, consultation)
    total = len(app.audit())
    assert total > 50
    b = browser(site, 'auditor')
    first = b.get('/audit').get_data(as_text=True)
    assert f'1–50 van {total}' in first and 'rel="next"' in first and first.count('<tr>') == 51
    second = b.get('/audit?page=2').get_data(as_text=True)
    assert f'51–{total} van {total}' in second and 'rel="prev"' in second
    filtered = b.get('/audit?event=account_added').get_data(as_text=True)
    accounts = sum(1 for e in app.audit() if e['event'] == 'account_added')
    assert f'1–{accounts} van {accounts}' in filtered and 'Account toegevoegd' in filtered
    assert b.get('/audit?page=x').status_code == 400
    tasks = visible_text(browser(site, 'utrecht').get('/taken').get_data(as_text=True))
    assert '1–3 van 3' in tasks
    found = visible_text(browser(site, 'utrecht').get('/taken?q=Weert').get_data(as_text=True))
    assert '1–1 van 1' in found
    procedures = browser(site, 'zeist').get('/procedures?status=running&type=wijziging').get_data(as_text=True)
    assert '1–3 van 3' in visible_text(procedures)


def test_the_audit_csv_is_dutch_flat_and_opens_in_dutch_excel(site, app, consultation):
    import csv
    import io
    from tests.conftest import answer
    answer(app, 'tilburg', 'objection', 'Past niet; te duur.')
    b = browser(site, 'auditor')
    body = b.get('/audit/export.csv?procedure_type=wijziging').get_data()
    assert body.startswith('\ufeff'.encode())
    rows = list(csv.reader(io.StringIO(body.decode('utf-8-sig')), delimiter=';'))
    header = rows[0]
    assert header[:6] == ['Volgnummer', 'Tijdstip', 'Persoon', 'Namens', 'Procedure', 'Gebeurtenis']
    assert header[-2:] == ['Vorige hash', 'Hash'] and 'data' not in header and 'Verklaring' in header
    objection = next(dict(zip(header, r, strict=True)) for r in rows[1:] if 'Past niet; te duur.' in r)
    assert objection['Namens'] == 'Gemeente Tilburg' and objection['Besluit'] == 'Bezwaar'
    assert objection['Gebeurtenis'] == 'Taak afgerond' and re.fullmatch(r'\d\d-\d\d-2021 \d\d:\d\d:\d\d',
                                                                          objection['Tijdstip'])
    chain = {e['seq']: e for e in app.audit()}
    seq = int(objection['Volgnummer'])
    assert objection['Hash'] == chain[seq]['hash'] and objection['Vorige hash'] == chain[seq - 1]['hash']
    plain = b.get('/audit/export.csv?procedure_type=wijziging&format=rfc4180').get_data(as_text=True)
    assert not plain.startswith('\ufeff') and plain.splitlines()[0].startswith('Volgnummer,Tijdstip,')
    assert list(csv.reader(io.StringIO(plain)))[1:] == rows[1:]
    assert b.get('/audit/export.csv?format=excel').status_code == 400


def test_names_and_dates_in_words(site, app, consultation):
    from tests.conftest import answer
    answer(app, 'tilburg', 'objection', 'Past niet.')
    deal = visible_text(browser(site, 'zeist').get('/deal').get_data(as_text=True))
    assert '4 maart 2021 t/m 31 maart 2024' in deal and not re.search(r'\d{4}-\d{2}-\d{2}', deal)
    page = visible_text(browser(site, 'zeist').get(f'/procedures/{consultation}').get_data(as_text=True))
    assert 'Ingediend door Ministerie van Binnenlandse Zaken en Koninkrijksrelaties' in page
    assert 'Instemming of bezwaar geven: Bezwaar — de heer O. Dusschooten, wethouder namens Gemeente Tilburg' in page
    assert '2 van 17 ingestemd' not in page and '1 van 17 ingestemd , 1 bezwaar' in page
    leader = visible_text(browser(site, 'projectleider').get('/overzicht').get_data(as_text=True))
    assert '(projectleider)' not in leader


def test_a_notice_of_withdrawal_names_the_party_and_its_state(site, app):
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie.')
    leader = browser(site, 'projectleider')
    task = next(t['id'] for t in app.tasks(role='projectleider') if t['procedure_type'] == 'opzegging')
    page = visible_text(leader.get(f'/taken/{task}').get_data(as_text=True))
    assert 'Opzegging door Tiwos' in page
    assert 'in opzegtermijn' in visible_text(leader.get('/deal').get_data(as_text=True))


def test_the_withdrawal_form_shows_every_error_at_once_and_keeps_the_ticks(site):
    b = browser(site, 'tiwos')
    page = b.post('/procedures/nieuw/opzegging', {'circumstances': ' ', 'confidential': 'on'})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="circumstances-error"' in html and 'id="understood-error"' in html
    assert re.search(r'id="confidential" name="confidential" type="checkbox" checked', html)
    page = b.post('/procedures/nieuw/opzegging', {'circumstances': 'Fusie.', 'understood': 'on'})
    assert page.status_code == 302


def test_back_from_the_confirmation_keeps_what_was_typed(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    confirm = b.post(f'/taken/{task}', {'decision': 'objection', 'statement': 'Te duur & te laat.'})
    assert 'name="back" value="1"' in confirm.get_data(as_text=True)
    back = b.post(f'/taken/{task}', {'back': '1', 'decision': 'objection', 'statement': 'Te duur & te laat.'},
                  token_from=f'/taken/{task}')
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and 'Te duur &amp; te laat.</textarea>' in html
    assert 'value="objection" checked' in html and 'error-summary' not in html
    assert app.tasks(party='zeist')  # nothing was recorded


def test_a_duplicate_yearly_cycle_links_to_the_one_that_exists(site, app):
    existing = start_procedure(app, 'jaarcyclus', year=2021)['id']
    page = browser(site, 'projectleider').post('/procedures/nieuw/jaarcyclus', {'year': '2021'})
    assert page.status_code == 422 and f'href="/procedures/{existing}"' in page.get_data(as_text=True)


def test_the_accession_form_preselects_no_kind_of_organisation(site):
    html = browser(site).get('/toetreden').get_data(as_text=True)
    assert re.search(r'<select id="kind"[^>]*><option value="" selected>', html)


def test_the_accessibility_statement_is_linked_from_every_page(site):
    b = browser(site)
    statement = b.get('/toegankelijkheid').get_data(as_text=True)
    assert 'WCAG 2.1' in statement and 'axe' in statement and 'Bekende beperkingen' in statement
    for path in ('/openbaar', '/inloggen', '/bestaat-niet'):
        assert 'href="/toegankelijkheid"' in b.get(path).get_data(as_text=True)


def test_an_organisation_applies_its_own_theme(make_site, tmp_path):
    own = tmp_path / 'tokens.css'
    own.write_text(':root { --utrecht-link-color: #003366; }')
    served = make_site(CITYDEAL_THEME=str(own)).test_client().get('/theme.css')
    assert served.status_code == 200 and served.mimetype == 'text/css' and b'#003366' in served.data
    served.close()
    with pytest.raises(ValueError, match='CITYDEAL_THEME'):
        make_site(CITYDEAL_THEME=str(tmp_path / 'missing.css'))


def test_a_thousand_tasks_come_fifty_at_a_time(site, app, consultation):
    """Rows as the engine keeps them for open tasks; the page reads one page's worth, counted in SQL."""
    import uuid
    from datetime import datetime, timedelta, timezone

    from engine.models import OpenTask
    start = datetime(2021, 4, 12, 8, tzinfo=timezone.utc)
    with app.unit_of_work() as uow:
        uow.session.add_all(OpenTask(id=str(uuid.uuid4()), procedure_id=consultation, name='instemming_geven',
                                     label=f'Taak {n:04d}', party_code='zeist', due_dt=start + timedelta(hours=n),
                                     opened_dt=start) for n in range(999))
        uow.commit()
    b = browser(site, 'zeist')
    first = b.get('/taken').get_data(as_text=True)
    assert '1–50 van 1.000' in visible_text(first) and first.count('<tr') == 51 and 'Taak 0000' in first
    last = visible_text(b.get('/taken?page=20').get_data(as_text=True))
    assert '951–1.000 van 1.000' in last and 'Pagina 20 van 20' in last
    assert b.get('/taken?page=21').status_code == 404


def test_the_new_pages_speak_english_too(site, consultation):
    b = browser(site, 'projectleider')
    page = b.get('/overzicht?lang=en').get_data(as_text=True)
    assert 'Overview of the procedures' in page and '1–1 of 1' in page and 'days left' in page
    assert 'Accessibility statement' in b.get('/toegankelijkheid').get_data(as_text=True)


def _counting(engine):
    """Data statements sent, and the transactions that wrote, while the block runs (SQLAlchemy events)."""
    from sqlalchemy import event
    seen = {'statements': [], 'transactions': []}

    def begin(connection):
        seen['transactions'].append(False)

    def execute(connection, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ('BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE'):
            return
        seen['statements'].append(' '.join(statement.split()))
        if verb in ('INSERT', 'UPDATE', 'DELETE') and seen['transactions']:
            seen['transactions'][-1] = True
    event.listen(engine, 'begin', begin)
    event.listen(engine, 'before_cursor_execute', execute)
    seen['stop'] = lambda: (event.remove(engine, 'begin', begin),
                            event.remove(engine, 'before_cursor_execute', execute))
    return seen


def test_a_consent_confirmed_on_the_web_is_one_write_transaction_of_at_most_12_statements(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    token = b.token(f'/taken/{task}')
    seen = _counting(app.engine)
    try:
        done = b.client.post(f'/taken/{task}/bevestigen', data={'decision': 'consent', 'statement': 'Akkoord.',
                                                                 'csrf_token': token})
    finally:
        seen['stop']()
    assert done.status_code == 302
    assert seen['transactions'].count(True) == 1, seen
    assert len(seen['statements']) <= 12, '\n'.join(seen['statements'])
    # The receipt reads its one audit entry, not the log.
    seen = _counting(app.engine)
    try:
        assert b.get(done.headers['Location']).status_code == 200
    finally:
        seen['stop']()
    reads = [s for s in seen['statements'] if 'FROM audit_entries' in s]
    assert len(reads) == 1 and seen['transactions'].count(True) == 0


def test_a_task_page_reads_the_account_the_task_and_the_procedure_once(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    seen = _counting(app.engine)
    try:
        assert b.get(f'/taken/{task}').status_code == 200
    finally:
        seen['stop']()
    def reads(table, where):
        return [s for s in seen['statements'] if s.startswith('SELECT') and f'FROM {table} ' in s and where in s]
    assert len(reads('users', 'users.id =')) == 1, seen['statements']
    assert len(reads('open_tasks', 'open_tasks.id =')) == 1, seen['statements']
    assert len(reads('procedures', 'procedures.id =')) == 1, seen['statements']
    assert len(reads('documents', '')) == 1 and seen['transactions'].count(True) == 0


@pytest.mark.rule('Received: projectleider and secretaris register a paper document for a party, with its received date')
def test_the_secretaris_registers_a_paper_notice_for_a_party_with_its_received_date(site, app):
    b = browser(site, 'secretaris')
    page = b.get('/procedures/nieuw/opzegging').get_data(as_text=True)
    assert 'name="received"' in page and '<select id="by" name="by" required>' in page
    before = snapshot(app)
    missing = b.post('/procedures/nieuw/opzegging', {'by': 'zayaz', 'circumstances': 'Per brief: fusie.',
                                                     'understood': 'on'})
    assert missing.status_code == 422 and snapshot(app) == before
    done = b.post('/procedures/nieuw/opzegging', {'by': 'zayaz', 'circumstances': 'Per brief: fusie.',
                                                  'received': '2021-04-01', 'understood': 'on'})
    assert done.status_code == 302
    [notice] = app.procedures()
    request = app.show(notice['id'])['request']
    assert (request['received'], request['effective_date'], request['registered_by']) == (
        '2021-04-01', '2021-07-01', 'secretaris')


def test_a_party_sending_online_cannot_backdate_its_request(site, app):
    b = browser(site, 'zeist')
    assert 'name="received"' not in b.get('/procedures/nieuw/wijziging').get_data(as_text=True)
    before = snapshot(app)
    sent = b.post('/procedures/nieuw/wijziging', {'title': 't', 'text': 'x', 'received': '2021-04-01'})
    assert sent.status_code == 403 and snapshot(app) == before


@pytest.mark.rule('Consent round: an answer can be revised while the round is open')
def test_besluit_herzien_on_the_receipt_while_the_round_is_open(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    done = b.post(f'/taken/{task}/bevestigen', {'decision': 'objection', 'statement': 'Eerst praten.'},
                  token_from=f'/taken/{task}')
    assert done.status_code == 302
    receipt = b.get(done.headers['Location']).get_data(as_text=True)
    assert f'/taken/{task}/herzien' in receipt and 'Besluit herzien' in receipt
    form = b.get(f'/taken/{task}/herzien')
    assert form.status_code == 200 and 'Eerst praten.' in form.get_data(as_text=True)
    assert browser(site, 'tilburg').post(f'/taken/{task}/herzien', {'decision': 'consent'},
                                         token_from='/taken').status_code == 403
    revised = b.post(f'/taken/{task}/herzien', {'decision': 'consent', 'statement': 'Akkoord na overleg.'})
    assert revised.status_code == 302
    [zeist] = [a for a in app.show(consultation)['answers'] if a['party'] == 'zeist']
    assert (zeist['decision'], zeist['statement']) == ('consent', 'Akkoord na overleg.')


@pytest.mark.rule('Consent round: consent is bound to the text; a new version asks every Party again')
def test_a_new_version_of_the_text_from_the_procedure_page(site, app, consultation):
    path = f'/procedures/{consultation}/nieuwe-versie'
    zeist = browser(site, 'zeist')
    zeist_task = task_id(app, 'zeist')
    zeist.post(f'/taken/{zeist_task}/bevestigen', {'decision': 'consent'}, token_from=f'/taken/{zeist_task}')
    # offered to the requester (bzk) and the projectleider only, as engine.rights decides
    for who in ('zeist', 'secretaris', 'auditor'):
        b = browser(site, who)
        assert path not in b.get(f'/procedures/{consultation}').get_data(as_text=True), who
        assert b.get(path).status_code == 403, who
        assert b.post(path, {'text': 'Anders.'}, token_from='/taken').status_code == 403, who
    assert path in browser(site, 'projectleider').get(f'/procedures/{consultation}').get_data(as_text=True)
    bzk = browser(site, 'bzk')
    page = bzk.get(f'/procedures/{consultation}').get_data(as_text=True)
    assert f'href="{path}"' in page and 'Nieuwe versie van de tekst' in page
    first = app.show(consultation)['versions'][0]
    assert 'Versies van de tekst' in page and first['sha256'][:12] in page  # version 1, its SHA-256 short
    form = bzk.get(path).get_data(as_text=True)
    assert 'Voeg werklijn 5 toe.</textarea>' in form and 'value="Werklijn 5: warmte"' in form  # the text as it stands
    before = snapshot(app)
    for values, message in (({'text': ' Voeg werklijn 5 toe. '}, 'De tekst van de nieuwe versie is gelijk aan de huidige.'),
                            ({'text': ' '}, 'Vul de tekst van de wijziging in.')):
        for step in (path, f'{path}/bevestigen'):
            refused = bzk.post(step, values, token_from=path)
            html = refused.get_data(as_text=True)
            assert refused.status_code == 422 and 'id="text-error"' in html and message in html, (step, values)
    new_text = 'Voeg werklijn 5 (warmtenetten in de wijk) toe.\nMet een proeftuin per gemeente.'
    typed = {'text': new_text, 'title': 'Werklijn 5: warmtenetten', 'motivation': 'Na overleg met Zeist.'}
    confirm = bzk.post(path, typed)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and 'Nieuwe versie vastleggen' in html and 'versie 2 van de tekst' in html
    back = bzk.post(path, dict(typed, back='1'), token_from=path).get_data(as_text=True)
    assert 'Na overleg met Zeist.</textarea>' in back and 'value="Werklijn 5: warmtenetten"' in back
    assert snapshot(app) == before  # nothing changed before confirming
    done = bzk.post(f'{path}/bevestigen', typed, token_from=path)
    assert done.status_code == 302 and done.headers['Location'].endswith(f'/procedures/{consultation}#versies-title')
    shown = app.show(consultation)
    assert [v['number'] for v in shown['versions']] == [1, 2] and shown['versions'][1]['text'] == new_text
    assert shown['request']['title'] == 'Werklijn 5: warmtenetten'
    assert {a['party']: a['decision'] for a in shown['answers']}['zeist'] == 'void'
    [event] = [e for e in shown['timeline'] if e['event'] == 'new_version']
    assert (event['acting_for'], event['data']['motivation']) == ('bzk', 'Na overleg met Zeist.')
    page = visible_text(bzk.get(f'/procedures/{consultation}').get_data(as_text=True))
    assert 'De nieuwe versie van de tekst is vastgelegd.' in page
    assert shown['versions'][1]['sha256'][:12] in page and '2 (huidige)' in page and '12 april 2021' in page


def test_no_new_version_before_the_round_opens(site, app):
    pid = start_amendment(app)
    bzk = browser(site, 'bzk')
    assert f'/procedures/{pid}/nieuwe-versie' not in bzk.get(f'/procedures/{pid}').get_data(as_text=True)
    closed = bzk.get(f'/procedures/{pid}/nieuwe-versie')
    html = closed.get_data(as_text=True)
    assert closed.status_code == 409 and 'heeft geen lopend overleg' in html and '<textarea' not in html
    before = snapshot(app)
    refused = bzk.post(f'/procedures/{pid}/nieuwe-versie/bevestigen', {'text': 'Anders.'}, token_from='/taken')
    assert refused.status_code == 422 and 'heeft geen lopend overleg' in refused.get_data(as_text=True)
    assert snapshot(app) == before
    notice = start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.')['id']
    assert bzk.get(f'/procedures/{notice}/nieuwe-versie').status_code == 404  # a notice has no text to put again


# --- issue 14 audit: people are led to act -------------------------------------------------------------------
ISO_DAY = re.compile(r'\d{4}-\d{2}-\d{2}')


def test_the_receipt_shows_the_decision_in_words_headed_for_who_reads_it(site, app, consultation):
    b = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    done = b.post(f'/taken/{task}/bevestigen', {'decision': 'consent', 'statement': 'Akkoord.'},
                  token_from=f'/taken/{task}')
    own = visible_text(b.get(done.headers['Location']).get_data(as_text=True))
    assert 'Uw besluit Instemming' in own and 'consent' not in own
    audited = visible_text(browser(site, 'auditor').get(done.headers['Location']).get_data(as_text=True))
    assert 'Besluit Instemming' in audited and 'Uw besluit' not in audited and 'consent' not in audited
    assert 'Besluit herzien' not in audited  # the auditor reads, and revises nothing
    tilburg = browser(site, 'tilburg')
    other = task_id(app, 'tilburg')
    done = tilburg.post(f'/taken/{other}/bevestigen', {'decision': 'objection', 'statement': 'Te duur.'},
                        token_from=f'/taken/{other}')
    assert 'Uw besluit Bezwaar' in visible_text(tilburg.get(done.headers['Location']).get_data(as_text=True))


def _answer_all_but(app, procedure_id, silent, objecting=()):
    for task in app.tasks():
        if task['procedure_id'] == procedure_id and task['party'] and task['party'] not in silent:
            values = {'decision': 'objection', 'statement': 'Past niet.'} if task['party'] in objecting \
                else {'decision': 'consent'}
            complete_task(app, task['id'], task['party'], values)


def test_after_the_deadline_the_tally_counts_every_party_asked_and_names_who_did_not_answer(site, app, clock,
                                                                                            consultation):
    _answer_all_but(app, consultation, silent={'tiwos', 'zayaz', 'platform31', 'wonen-limburg'},
                    objecting={'tilburg'})
    clock.advance(weeks=7)
    app.tick()
    [decide] = [t for t in app.tasks(role='projectleider') if t['name'] == 'verlengen_of_afsluiten']
    leader = browser(site, 'projectleider')
    for path in (f'/procedures/{consultation}', f"/taken/{decide['id']}"):
        page = visible_text(leader.get(path).get_data(as_text=True))
        assert '12 van 17 ingestemd , 1 bezwaar, geen antwoord van: Wonen Limburg, Zayaz, Tiwos, Platform31.' in page, \
            path
        assert '12 van 13' not in page and 'Nu aan zet: projectleider.' in page
    overview = visible_text(leader.get('/overzicht').get_data(as_text=True))
    assert '13 van 17 geantwoord' in overview and '4 Partijen antwoordden niet' in overview


def test_start_forms_show_every_error_at_once_at_its_field(site, app):
    party, leader = browser(site, 'zeist'), browser(site, 'projectleider')
    before = snapshot(app)
    page = party.post('/procedures/nieuw/wijziging', {'title': 'Werklijn 6', 'text': '', 'new_end_date': '2019-01-01'})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="text-error"' in html and 'id="new_end_date-error"' in html
    assert 'Vul de tekst van de wijziging in.' in html
    # a registration: no party chosen, no circumstances, a received day in the future: all three at once
    page = leader.post('/procedures/nieuw/opzegging', {'by': '', 'circumstances': '', 'received': '2030-01-01',
                                                       'understood': 'on'})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert all(f'id="{field}-error"' in html for field in ('by', 'circumstances', 'received')), html
    assert 'Kies de Partij van wie u het schriftelijke stuk registreert.' in html
    assert 'Kies namens welke Partij u handelt' not in html
    assert snapshot(app) == before


def test_the_delegation_and_accession_forms_show_every_error_by_its_label(site, app):
    party, visitor = browser(site, 'zeist'), browser(site)
    before = snapshot(app)
    page = party.post('/delegeren', {'deputy': '', 'starts_on': '', 'ends_on': ''})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert all(f'id="{field}-error"' in html for field in ('deputy', 'starts_on', 'ends_on'))
    assert 'Vul het e-mailadres van de plaatsvervanger in.' in html
    page = visitor.post('/toetreden', {'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'pledge_eur': 'veel'})
    summary = visible_text(re.search(r'<div class="error-summary".*?</div>', page.get_data(as_text=True),
                                     re.S).group(0))
    assert page.status_code == 422 and 'Financiële toezegging in euro' in summary
    assert not re.search(r'\w_\w', summary), summary  # no field's code (pledge_eur) in the summary
    assert snapshot(app) == before


def test_the_task_and_procedure_pages_list_the_documents(site, app):
    from engine.rights import Caller
    from tests.integration.test_documents import PDF
    pid = app.start('wijziging', Caller.operator_as('bzk', None), {'title': 'Werklijn 5', 'text': 'Voeg toe.'},
                    files=[('toelichting-werklijn-5.pdf', PDF)])['id']
    open_consultation(app, pid)
    [document] = app.show(pid)['documents']
    b = browser(site, 'zeist')
    for path in (f'/procedures/{pid}', f"/taken/{task_id(app, 'zeist')}"):
        html = b.get(path).get_data(as_text=True)
        assert f'href="/documenten/{document["id"]}"' in html and 'toelichting-werklijn-5.pdf' in html, path
        text = visible_text(html)
        assert 'Doel: bij het verzoek' in text and 'Ministerie van Binnenlandse Zaken en Koninkrijksrelaties' in text
    download = b.get(f'/documenten/{document["id"]}')
    assert download.status_code == 200 and download.data == PDF


def test_the_current_step_is_the_open_task_and_the_timer_a_period(site, app, consultation):
    page = visible_text(browser(site, 'zeist').get(f'/procedures/{consultation}').get_data(as_text=True))
    step = re.search(r'Nu bij: (.*?) nu afgerond', page).group(1)
    assert step.startswith('Instemming of bezwaar geven; de termijn loopt tot maandag 24 mei 2021')
    assert 'Overlegtermijn verstreken' not in step


def test_the_overview_names_who_started_a_cycle_its_next_due_date_and_a_notice_by_its_day(site, app):
    start_procedure(app, 'jaarcyclus', by='projectleider', year=2021)
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie.')
    page = visible_text(browser(site, 'projectleider').get('/overzicht').get_data(as_text=True))
    cycle = page[page.index('Jaarcyclus 2021'):]
    assert cycle.index('projectleider') < cycle.index('31 juli 2021 om 23:59') < cycle.index('loopt')
    assert 'de planner (automatisch)' not in page
    assert '12 juli 2021 (nog' in page and '12 juli 2021 om 00:00' not in page


def test_the_accessibility_statement_gives_the_secretaris_and_the_ombudsman(site):
    page = browser(site).get('/toegankelijkheid').get_data(as_text=True)
    assert 'href="mailto:secretaris@energieke-wijken.example"' in page and 'Nationale ombudsman' in page


def test_a_registrar_is_offered_to_register_a_paper_notice(site):
    leader = browser(site, 'projectleider')
    tasks = visible_text(leader.get('/taken').get_data(as_text=True))
    assert 'Opzegging van een Partij registreren' in tasks and 'Deelname opzeggen' not in tasks
    form = visible_text(leader.get('/procedures/nieuw/opzegging').get_data(as_text=True))
    assert 'Partij die het stuk stuurde' in form and 'Ik zeg de deelname van mijn Partij op' not in form
    kinds = browser(site).get('/toetreden').get_data(as_text=True)
    assert '>rijk</option>' in kinds and '>gemeente</option>' in kinds


def test_the_audit_csv_has_unique_dutch_headers_and_no_codes_or_iso_dates(site, app, clock, consultation):
    """Every header Dutch and once; parties, roles and accounts by name; days and moments as in the time
    column; yes and no in words. Built over a round with a web answer, a revision, an objection, a document,
    a registered notice, a delegation, reminders and a deadline passed."""
    import csv
    import io

    from engine.rights import Caller
    from tests.integration.test_documents import PDF
    from web import audit_csv
    from web.labels import FIELDS
    zeist, secretaris = browser(site, 'zeist'), browser(site, 'secretaris')
    task = task_id(app, 'zeist')
    zeist.post(f'/taken/{task}/bevestigen', {'decision': 'objection', 'statement': 'Eerst praten.'},
               token_from=f'/taken/{task}')
    zeist.post(f'/taken/{task}/herzien', {'decision': 'consent', 'statement': 'Akkoord na overleg.'})
    app.add_user('plaatsvervanger@zeist.example', 'een-lang-wachtwoord-2021', name='mevrouw J. Jansen')
    zeist.post('/delegeren', {'deputy': 'plaatsvervanger@zeist.example', 'starts_on': '2021-04-12',
                              'ends_on': '2021-04-30'})
    secretaris.post('/procedures/nieuw/opzegging', {'by': 'zayaz', 'circumstances': 'Per brief: fusie.',
                                                    'received': '2021-04-01', 'understood': 'on'})
    app.start('wijziging', Caller.operator_as('tilburg', None), {'title': 'Bijlage', 'text': 'Zie document.'},
              files=[('notitie.pdf', PDF)])
    _answer_all_but(app, consultation, silent={'tiwos'}, objecting={'weert'})
    clock.advance(weeks=7)
    app.tick()
    b = browser(site, 'auditor')
    assert 'in orde: 1 bestand, met de vastgelegde SHA-256.' in b.get('/audit').get_data(as_text=True)
    response = b.get('/audit/export.csv')
    assert response.headers['Content-Type'] == 'text/csv; charset=utf-8'
    rows = list(csv.reader(io.StringIO(response.get_data().decode('utf-8-sig')), delimiter=';'))
    header, body = rows[0], rows[1:]
    assert len(header) == len(set(header)), sorted(h for h in header if header.count(h) > 1)
    with site.test_request_context():
        known = {str(v) for v in list(audit_csv.HEADERS.values()) + list(FIELDS.values())}
        places = {str(v) for v in audit_csv.PLACES.values()}
    known |= {'Volgnummer', 'Tijdstip', 'Persoon', 'Namens', 'Procedure', 'Gebeurtenis', 'Vorige hash', 'Hash'}
    for name in header:
        bare = re.sub(r' \((' + '|'.join(places) + r'|\d+)\)$', '', name)
        assert bare in known and not re.search(r'[_.]\w', name), name
    columns = {name: [row[i] for row in body if row[i]] for i, name in enumerate(header)}
    assert not [(name, v) for name, values in columns.items() for v in values if ISO_DAY.search(v)]
    codes = {p['code'] for p in app.parties()}
    assert columns['Partijen'] and not codes & {c.strip() for v in columns['Partijen'] for c in v.split(',')}
    assert 'Gemeente Weert' in columns['Partij'] and columns['Niet geantwoord'] == ['Tiwos']
    assert 'Zayaz' in columns['Partij'] and 'secretaris' in columns['Geregistreerd door']
    assert columns['Account'] and not any(v.isdigit() for v in columns['Account'])
    assert set(columns['Te laat']) <= {'ja', 'nee'} and set(columns['Vertrouwelijk (niet op openbare pagina\'s)']) \
        <= {'ja', 'nee'}
    assert 'Ontvangen op (verzoek)' in header and re.fullmatch(r'\d\d-\d\d-\d{4}', columns['Ontvangen op (verzoek)'][0])


def test_the_audit_page_says_the_tables_match_the_chain_and_names_an_edited_row(site, app, consultation):
    page = browser(site, 'auditor').get('/audit').get_data(as_text=True)
    assert 'Tabellen:' in page and 'precies wat de keten vastlegt' in page
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE parties SET status = 'withdrawn' WHERE code = 'zeist'"))
    page = browser(site, 'auditor').get('/audit').get_data(as_text=True)
    assert 'NIET in orde: de database wijkt af' in page and 'precies wat de keten vastlegt' not in page
    assert 'parties (code zeist) status' in page and 'Hashketen:</strong>\nin orde' in page
