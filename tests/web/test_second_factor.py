"""A second factor (TOTP, recovery codes), roles that must have one, "Wachtwoord vergeten", the
password rules and the account page."""
import re

import pyotp
import pytest
from sqlalchemy import select

from engine.errors import CommandRefused
from engine.models import OneTimeLink, RecoveryCode
from tests.web.test_login_limits import mails
from tests.web_support import PASSWORD, browser


@pytest.fixture
def site(make_site):
    return make_site({'LOGIN_DELAY': lambda seconds: None}, CITYDEAL_BASE_URL='https://deal.example/')


def turn_on(b, clock):
    """Turn on TOTP as a person would: read the key under the QR code, type the app's code."""
    page = b.get('/account/tweede-factor').get_data(as_text=True)
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', page)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(' ', '')
    done = b.post('/account/tweede-factor', {'action': 'enable', 'code': pyotp.TOTP(secret).at(clock.now())})
    codes = re.findall(r'<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>', done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_totp_is_asked_after_the_password_and_a_code_works_once(site, app, clock):
    b = browser(site, 'zeist')
    secret, codes = turn_on(b, clock)
    assert "img-src 'self' data:" in b.get('/account').headers['Content-Security-Policy']
    account = b.get('/account').get_data(as_text=True)
    assert 'Aan.' in account and 'Herstelcodes over: 10.' in account
    used_at_setup = pyotp.TOTP(secret).at(clock.now())
    person = browser(site)
    first = person.login('zeist')
    assert first.headers['Location'] == '/inloggen/code'
    assert person.get('/taken').status_code == 302  # not logged in yet
    assert person.post('/inloggen/code', {'code': '000000'}).status_code == 401
    assert person.post('/inloggen/code', {'code': used_at_setup}).status_code == 401  # no replay
    clock.advance(seconds=30)
    assert person.post('/inloggen/code', {'code': pyotp.TOTP(secret).at(clock.now())}).headers['Location'] == '/taken'
    assert person.get('/taken').status_code == 200


def test_a_recovery_code_stands_in_once_and_is_stored_hashed(site, app, clock):
    _, codes = turn_on(browser(site, 'zeist'), clock)
    person = browser(site)
    person.login('zeist')
    assert person.post('/inloggen/code', {'code': codes[0].upper()}).headers['Location'] == '/taken'
    assert 'Herstelcodes over: 9.' in person.get('/account').get_data(as_text=True)
    again = browser(site)
    again.login('zeist')
    assert again.post('/inloggen/code', {'code': codes[0]}).status_code == 401
    with app.unit_of_work() as uow:
        stored = [r.code_hash for r in uow.session.scalars(select(RecoveryCode))]
    assert len(stored) == 10 and not set(codes) & set(stored)


def test_wrong_codes_count_as_failed_logins_of_the_account(site, app, clock):
    turn_on(browser(site, 'zeist'), clock)
    person = browser(site)
    person.login('zeist')
    for _ in range(5):
        person.post('/inloggen/code', {'code': '123456'})
    clock.advance(seconds=30)
    right = person.post('/inloggen/code', {'code': pyotp.TOTP(app_secret(app)).at(clock.now())})
    assert right.status_code == 401 and 'Te veel pogingen' in right.get_data(as_text=True)
    assert [to for to, _ in mails(app, 'sign_in_link')] == ['zeist@deal.example']


def app_secret(app):
    from engine.models import User
    with app.unit_of_work() as uow:
        return uow.session.scalars(select(User).where(User.email == 'zeist@deal.example')).one().totp_secret


def test_a_role_that_requires_totp_sees_only_its_set_up_until_it_is_on(site, app, clock, monkeypatch):
    monkeypatch.setenv('CITYDEAL_REQUIRE_TOTP', 'projectleider,secretaris,auditor,admin')
    leader = browser(site, 'projectleider')
    assert leader.get('/taken').headers['Location'] == '/account/tweede-factor'
    assert leader.get('/account').headers['Location'] == '/account/tweede-factor'
    # the page that turns it on needs its look, and the accessibility statement its footer link
    theme = leader.get('/theme.css')
    theme.close()
    assert theme.status_code == 200 and leader.get('/toegankelijkheid').status_code == 200
    assert browser(site, 'zeist').get('/taken').status_code == 200  # parties only with `partij`
    turn_on(leader, clock)
    assert leader.get('/taken').status_code == 200
    page = leader.get('/account/tweede-factor').get_data(as_text=True)
    assert 'Tweede factor uitzetten' not in page  # required: it cannot be turned off


def test_a_forgotten_password_is_reset_once_through_a_link_valid_one_hour(site, app, clock):
    b = browser(site)
    page = b.post('/wachtwoord-vergeten', {'email': 'zeist@deal.example'}).get_data(as_text=True)
    unknown = b.post('/wachtwoord-vergeten', {'email': 'niemand@deal.example'}).get_data(as_text=True)
    assert 'Als er een account is' in page and 'Als er een account is' in unknown
    [(to, body)] = mails(app, 'password_reset')
    assert to == 'zeist@deal.example' and '60 minuten' in body
    link = re.search(r'https://deal\.example(/wachtwoord-herstellen/\S+)', body).group(1)
    token = link.rsplit('/', 1)[1]
    with app.unit_of_work() as uow:
        [row] = uow.session.scalars(select(OneTimeLink)).all()
    assert row.token_hash != token and (row.expires_dt - row.created_dt).total_seconds() == 3600
    weak = b.post(link, {'password': 'aaaaaaaaaaaa', 'repeat': 'aaaaaaaaaaaa'})
    assert weak.status_code == 422 and 'veel gebruikt' in weak.get_data(as_text=True)
    new = 'mijn fiets staat bij het stadhuis'
    assert b.post(link, {'password': new, 'repeat': new}).headers['Location'] == '/inloggen'
    assert b.post('/inloggen', {'email': 'zeist@deal.example', 'password': PASSWORD}).status_code == 401
    assert b.post('/inloggen', {'email': 'zeist@deal.example', 'password': new}).status_code == 302
    assert browser(site).get(link).status_code == 400  # used
    b.post('/wachtwoord-vergeten', {'email': 'tilburg@deal.example'})
    later = re.search(r'(/wachtwoord-herstellen/\S+)', mails(app, 'password_reset')[-1][1]).group(1)
    clock.advance(minutes=61)
    assert browser(site).get(later).status_code == 400  # expired


@pytest.mark.parametrize('password', ['aaaaaaaaaaaa', 'wachtwoord2021', 'qwerty123456', '123456789012', 'kort',
                                      'passwordpassword', 'welkomwelkom', 'qwertyuiopasdf', 'abcdefghijkl'])
def test_weak_passwords_are_refused_naming_the_field(app, password):
    with pytest.raises(CommandRefused) as refused:
        app.add_user('nieuw@deal.example', password, role='auditor')
    assert [p.field for p in refused.value.problems] == ['password']


def test_the_account_page_shows_tokens_and_delegations_both_ways(site, app):
    zeist = browser(site, 'zeist')
    zeist.post('/tokens', {'name': 'laptop'})
    app.add_user('plaatsvervanger@deal.example', PASSWORD, name='mevrouw J. Jansen')  # a deputy's own account
    zeist.post('/delegeren', {'deputy': 'plaatsvervanger@deal.example', 'starts_on': '2021-04-12',
                              'ends_on': '2021-04-30'})
    page = zeist.get('/account').get_data(as_text=True)
    assert 'laptop' in page and 'plaatsvervanger@deal.example' in page and 'Uit.' in page
    received = browser(site, 'plaatsvervanger').get('/account').get_data(as_text=True)
    assert 'Aan u verleend' in received and 'zeist@deal.example' in received


def test_the_account_pages_need_a_login_and_the_public_ones_do_not(site):
    anonymous = browser(site)
    for path in ('/account', '/account/tweede-factor'):
        assert anonymous.get(path).headers['Location'].startswith('/inloggen?next=')
    assert anonymous.get('/inloggen/code').headers['Location'] == '/inloggen'  # no first step passed
    assert anonymous.get('/wachtwoord-vergeten').status_code == 200
    assert anonymous.get('/wachtwoord-herstellen/verzonnen').status_code == 400
