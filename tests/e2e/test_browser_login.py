"""Logging in, in a real browser (Chromium, Playwright): the second factor from setting it up to the
code after the password, login through the organisation against an OpenID provider on loopback,
and axe-core's WCAG 2.1 A/AA rules on every new page (the set-up, the recovery codes, the code step
with its error, the account page, the forgotten password, the reset form, the sign-in link, the
refusals)."""
import re
import threading
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.models import OutboxMessage
from tests.e2e.test_browser import (  # noqa: F401 (fixture)
    CHROMIUM, _QuietAfterTwoSeconds, chromium, expect, shot, violations)
from tests.web_support import PASSWORD, add_accounts, email_of, fast_hashing
from web.app import create_app

playwright_api = pytest.importorskip('playwright.sync_api')
oidc_provider_mock = pytest.importorskip('oidc_provider_mock')
pytestmark = [
    pytest.mark.skipif(not __import__('os').path.exists(CHROMIUM), reason='Chromium is not installed'),
    pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader name='[^']*/web/static/:ResourceWarning"),
    pytest.mark.filterwarnings('ignore:get_jwt_config:DeprecationWarning'),  # the mock's own, see test_oidc
    pytest.mark.cli,
]


@pytest.fixture
def provider():
    users = [oidc_provider_mock.User(sub='zeist', claims={'email': email_of('zeist'), 'email_verified': True})]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f'http://localhost:{server.server_port}'


@pytest.fixture
def server(app, monkeypatch, provider):
    fast_hashing(monkeypatch)
    add_accounts(app)
    monkeypatch.setenv('CITYDEAL_SECRET_KEY', 'browser-test')
    monkeypatch.setenv('CITYDEAL_OIDC_ISSUER', provider)
    monkeypatch.setenv('CITYDEAL_OIDC_CLIENT_ID', 'citydeal-browser')
    monkeypatch.setenv('CITYDEAL_OIDC_CLIENT_SECRET', 'geheim-van-de-browsertest')
    http = make_server('127.0.0.1', 0, create_app(app, {'LOGIN_DELAY': lambda seconds: None}), threaded=True,
                       request_handler=_QuietAfterTwoSeconds)
    thread = threading.Thread(target=http.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv('CITYDEAL_BASE_URL', f'http://127.0.0.1:{http.server_port}')
    yield f'http://127.0.0.1:{http.server_port}'
    http.shutdown()
    thread.join()
    http.server_close()


def loopback_only(context):
    """The mock's page asks a stylesheet from a CDN: nothing leaves this machine."""
    def route(request_route):
        host = urlsplit(request_route.request.url).hostname
        if host in ('127.0.0.1', 'localhost'):
            request_route.continue_()
        else:
            request_route.abort()
    context.route('**/*', route)


class Checker:
    def __init__(self):
        self.found = {}

    def __call__(self, page, name):
        self.found[name] = violations(page)
        shot(page, f'a11y-{name}')

    def problems(self):
        return {name: v for name, v in self.found.items() if v}


def log_in_with_password(page, base, who):
    page.goto(f'{base}/inloggen')
    page.fill('#email', email_of(who))
    page.fill('#password', PASSWORD)
    page.click('button[type=submit] >> text=Inloggen')


def test_totp_from_set_up_to_the_code_after_the_password(server, app, clock, chromium):  # noqa: F811
    check = Checker()
    context = chromium.new_context(locale='nl-NL', viewport={'width': 1280, 'height': 900})
    page = context.new_page()
    log_in_with_password(page, server, 'zeist')
    assert page.url.endswith('/taken')
    page.click('text=Account')
    check(page, 'account')
    page.click('text=Tweede factor beheren')
    assert page.locator('img.qr').get_attribute('src').startswith('data:image/svg+xml;base64,')
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0  # the CSP let it show
    check(page, 'tweede-factor-instellen')
    secret = page.inner_text('#totp-secret').replace(' ', '')
    page.fill('#code', pyotp.TOTP(secret).at(clock.now()))
    page.click('text=Tweede factor aanzetten')
    codes = page.locator('.recovery-codes code').all_inner_texts()
    assert len(codes) == 10
    check(page, 'herstelcodes')
    page.click('text=Uitloggen')
    log_in_with_password(page, server, 'zeist')
    assert page.url.endswith('/inloggen/code')
    check(page, 'inloggen-code')
    page.fill('#code', '000000')
    page.click('button[type=submit] >> text=Inloggen')
    expect(page.locator('#code-error')).to_be_visible()
    check(page, 'inloggen-code-fout')
    clock.advance(seconds=30)
    page.fill('#code', pyotp.TOTP(secret).at(clock.now()))
    page.click('button[type=submit] >> text=Inloggen')
    assert page.url.endswith('/taken')
    page.goto(f'{server}/account')
    assert 'Herstelcodes over: 10.' in page.inner_text('#totp-status')
    context.close()
    assert check.problems() == {}


def test_login_through_the_organisation(server, app, chromium):  # noqa: F811
    check = Checker()
    context = chromium.new_context(locale='nl-NL')
    loopback_only(context)
    page = context.new_page()
    page.goto(f'{server}/inloggen')
    check(page, 'inloggen-met-organisatie')
    page.click('text=Inloggen via uw organisatie')
    assert page.url.startswith('http://localhost:')  # at the provider
    page.fill('input[name=sub]', 'zeist')
    page.click('button[type=submit] >> text=Authorize')
    assert page.url == f'{server}/taken'
    assert 'Gemeente Zeist' in page.inner_text('header')
    page.click('text=Uitloggen')
    page.goto(f'{server}/inloggen')
    page.click('text=Inloggen via uw organisatie')
    page.fill('input[name=sub]', 'niemand@elders.example')  # the mock vouches for no such verification
    page.click('button[type=submit] >> text=Authorize')
    assert 'niet gelukt' in page.inner_text('h1')
    check(page, 'organisatie-geweigerd')
    context.close()
    assert check.problems() == {}


def test_the_pages_of_forgotten_passwords_and_links_meet_wcag_21_aa(server, app, chromium):  # noqa: F811
    check = Checker()
    page = chromium.new_page()
    page.goto(f'{server}/wachtwoord-vergeten')
    check(page, 'wachtwoord-vergeten')
    page.fill('#email', email_of('zeist'))
    page.click('text=Stuur mij een link')
    expect(page.locator('text=Als er een account is')).to_be_visible()
    check(page, 'wachtwoord-vergeten-verstuurd')
    with app.unit_of_work() as uow:
        body = uow.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.event == 'password_reset')).one()
    link = re.search(r'http://127\.0\.0\.1:\d+/wachtwoord-herstellen/\S+', body).group(0)
    page.goto(link)
    check(page, 'wachtwoord-herstellen')
    page.fill('#password', 'aaaaaaaaaaaa')
    page.fill('#repeat', 'aaaaaaaaaaaa')
    page.click('text=Wachtwoord instellen')
    expect(page.locator('#password-error')).to_be_visible()
    check(page, 'wachtwoord-herstellen-fout')
    page.fill('#password', 'de fietsenstalling bij het station')
    page.fill('#repeat', 'de fietsenstalling bij het station')
    page.click('text=Wachtwoord instellen')
    assert page.url.endswith('/inloggen')
    page.goto(link)
    check(page, 'link-werkt-niet-meer')
    page.goto(f'{server}/inloggen/link/een-token-dat-niet-bestaat')
    check(page, 'eenmalig-inloggen')
    page.close()
    assert check.problems() == {}
