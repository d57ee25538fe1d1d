"""Login limits that stop guessing, not people: failures count per account over every address (then
the account waits and its owner gets a one-time sign-in link), and failures from one address are
slowed but never make another account's right password fail."""
import re

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from tests.web_support import PASSWORD, browser


@pytest.fixture
def delays():
    return []


@pytest.fixture
def site(make_site, delays):
    return make_site({'LOGIN_DELAY': delays.append}, CITYDEAL_TRUSTED_PROXIES='1',
                     CITYDEAL_BASE_URL='https://deal.example')


def attempt(site, email, password, address):
    """A login from ``address`` as the reverse proxy reports it (X-Forwarded-For)."""
    client = site.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get('/inloggen').get_data(as_text=True)).group(1)
    return client.post('/inloggen', data={'email': email, 'password': password, 'csrf_token': token},
                       headers={'X-Forwarded-For': address})


def mails(app, event):
    with app.unit_of_work() as uow:
        return [(m.to_address, m.body_text) for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id))]


def test_twelve_guesses_from_twelve_forwarded_addresses_stop_after_five(site, app):
    answers = [attempt(site, 'zeist@deal.example', f'geraden-wachtwoord-{i}', f'203.0.113.{i}') for i in range(12)]
    texts = [a.get_data(as_text=True) for a in answers]
    assert [a.status_code for a in answers] == [401] * 12
    assert all('klopt niet' in t for t in texts[:5]) and all('Te veel pogingen' in t for t in texts[5:])
    # The account waits: the right password too, from yet another address.
    right = attempt(site, 'zeist@deal.example', PASSWORD, '198.51.100.7')
    assert right.status_code == 401 and 'Te veel pogingen' in right.get_data(as_text=True)
    # Its owner got one mail (not one per guess) with a one-time sign-in link on the public address.
    [(to, body)] = mails(app, 'sign_in_link')
    assert to == 'zeist@deal.example'
    link = re.search(r'https://deal\.example(/inloggen/link/\S+)', body).group(1)
    owner = browser(site)
    assert owner.get(link).status_code == 200  # only asks: a mail scanner following it uses nothing up
    assert owner.post(link, {}).headers['Location'] == '/taken'
    assert owner.get('/taken').status_code == 200
    assert browser(site).post(link, {}).status_code == 400  # once only


def test_the_sign_in_link_expires_and_the_wait_ends_after_15_minutes(site, app, clock):
    for i in range(5):
        attempt(site, 'tilburg@deal.example', 'fout-fout-fout', f'203.0.113.{i}')
    [(_, body)] = mails(app, 'sign_in_link')
    link = re.search(r'(/inloggen/link/\S+)', body).group(1)
    clock.advance(minutes=31)
    assert browser(site).post(link, {}).status_code == 400
    assert attempt(site, 'tilburg@deal.example', PASSWORD, '203.0.113.9').status_code == 302


def test_twenty_failures_from_one_address_do_not_block_another_accounts_right_password(site, app, delays):
    address = '203.0.113.50'
    parties = [p['code'] for p in app.parties()]
    for i in range(20):  # a sprayer: few guesses per account, many accounts, one address
        assert attempt(site, f'{parties[i % 10]}@deal.example', f'zomer-{i}-wachtwoord', address).status_code == 401
    # Slowed: the first five come at once, then each wrong answer later than the one before, up to 10 s.
    assert len(delays) == 15 and delays == sorted(delays) and delays[0] > 0 and max(delays) <= 10
    delays.clear()
    for who, lands_on in (('projectleider', '/overzicht'), (parties[0], '/taken')):
        right = attempt(site, f'{who}@deal.example', PASSWORD, address)
        assert right.status_code == 302 and right.headers['Location'] == lands_on
    assert delays == []  # a right password is never held back


def test_a_success_forgives_earlier_failures_of_the_account(site):
    for _ in range(4):
        attempt(site, 'zeist@deal.example', 'fout-fout-fout', '203.0.113.1')
    assert attempt(site, 'zeist@deal.example', PASSWORD, '203.0.113.1').status_code == 302
    for _ in range(4):
        attempt(site, 'zeist@deal.example', 'fout-fout-fout', '203.0.113.1')
    assert attempt(site, 'zeist@deal.example', PASSWORD, '203.0.113.1').status_code == 302


def test_a_password_reset_through_the_mailbox_ends_the_wait(site, app):
    for i in range(5):
        attempt(site, 'tilburg@deal.example', 'fout-fout-fout', f'203.0.113.{i}')
    assert 'Te veel pogingen' in attempt(site, 'tilburg@deal.example', PASSWORD, '198.51.100.1').get_data(as_text=True)
    owner = browser(site)
    owner.post('/wachtwoord-vergeten', {'email': 'tilburg@deal.example'})
    link = re.search(r'https://deal\.example(/wachtwoord-herstellen/\S+)', mails(app, 'password_reset')[-1][1]).group(1)
    new = 'de markt op zaterdagochtend in het centrum'
    assert owner.post(link, {'password': new, 'repeat': new}).headers['Location'] == '/inloggen'
    assert attempt(site, 'tilburg@deal.example', new, '198.51.100.1').status_code == 302


def test_a_reset_request_takes_as_long_whether_or_not_the_address_has_an_account(site, app, delays):
    from web.account import RESET_ANSWER_SECONDS
    b = browser(site)
    for address in ('zeist@deal.example', 'niemand@deal.example'):
        assert 'Als er een account is' in b.post('/wachtwoord-vergeten', {'email': address}).get_data(as_text=True)
    assert len(delays) == 2 and all(0 < wait <= RESET_ANSWER_SECONDS for wait in delays)
    assert len(mails(app, 'password_reset')) == 1
