"""Login through the organisation (OpenID Connect) against real providers on loopback: the
oidc-provider-mock package for a good login and for unknown or unverified addresses, and a provider
of our own (tests/oidc_provider.py) that signs tokens wrong in one way each."""
from urllib.parse import urlsplit

import pytest
import requests

from tests.oidc_provider import Provider
from tests.web_support import browser

oidc_provider_mock = pytest.importorskip('oidc_provider_mock')
# The mock (0.3.4) still configures its ID tokens the way Authlib 1.9 deprecates; that warning is its own.
pytestmark = pytest.mark.filterwarnings('ignore:get_jwt_config:DeprecationWarning')


@pytest.fixture
def mock_provider():
    users = [oidc_provider_mock.User(sub='zeist', claims={'email': 'zeist@deal.example', 'email_verified': True}),
             oidc_provider_mock.User(sub='unverified', claims={'email': 'tilburg@deal.example',
                                                               'email_verified': False}),
             oidc_provider_mock.User(sub='stranger', claims={'email': 'niemand@elders.example',
                                                             'email_verified': True})]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f'http://localhost:{server.server_port}'


@pytest.fixture
def own_provider():
    provider = Provider('citydeal-test', 'geheim-van-de-test').start()
    yield provider
    provider.stop()


def oidc_site(make_site, issuer, client_id='citydeal-test', secret='geheim-van-de-test'):
    """The web app (conftest's ``make_site``) with login through the organisation at ``issuer``."""
    return make_site(CITYDEAL_OIDC_ISSUER=issuer, CITYDEAL_OIDC_CLIENT_ID=client_id,
                     CITYDEAL_OIDC_CLIENT_SECRET=secret)


def start(b):
    """Press "Inloggen via uw organisatie": the answer sends the browser to the provider."""
    assert 'Inloggen via uw organisatie' in b.get('/inloggen').get_data(as_text=True)
    sent = b.get('/inloggen/organisatie')
    assert sent.status_code == 302, sent.get_data(as_text=True)
    return sent.headers['Location']


def come_back(b, location):
    parts = urlsplit(location)
    return b.get(f'{parts.path}?{parts.query}')


def through_mock(b, sub):
    authorize = start(b)
    assert 'code_challenge=' in authorize and 'code_challenge_method=S256' in authorize and 'nonce=' in authorize
    answer = requests.post(authorize, data={'sub': sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return come_back(b, answer.headers['Location'])


def test_no_organisation_button_when_not_configured(make_site, monkeypatch):
    for name in ('ISSUER', 'CLIENT_ID', 'CLIENT_SECRET'):
        monkeypatch.delenv(f'CITYDEAL_OIDC_{name}', raising=False)
    b = browser(make_site())
    assert 'Inloggen via uw organisatie' not in b.get('/inloggen').get_data(as_text=True)
    assert b.get('/inloggen/organisatie').status_code == 404


def test_a_good_login_through_the_organisation(make_site, mock_provider):
    b = browser(oidc_site(make_site, mock_provider))
    back = through_mock(b, 'zeist')
    assert back.status_code == 302 and back.headers['Location'] == '/taken'
    assert 'Gemeente Zeist' in b.get('/taken').get_data(as_text=True)


@pytest.mark.parametrize('sub, words', [('unverified', 'niet bevestigd'), ('stranger', 'geen account')])
def test_an_unverified_or_unknown_address_is_refused(make_site, mock_provider, sub, words):
    b = browser(oidc_site(make_site, mock_provider))
    back = through_mock(b, sub)
    assert back.status_code == 403 and words in back.get_data(as_text=True)
    assert b.get('/taken').status_code == 302  # not logged in


def test_our_provider_logs_in_with_pkce(make_site, own_provider):
    b = browser(oidc_site(make_site, own_provider.issuer))
    back = come_back(b, requests.get(start(b), allow_redirects=False, timeout=10).headers['Location'])
    assert back.headers['Location'] == '/taken' and own_provider.pkce_checked == [True]


@pytest.mark.parametrize('mode', ['wrong_issuer', 'wrong_audience', 'expired', 'bad_nonce'])
def test_a_wrong_token_is_refused(make_site, own_provider, mode):
    own_provider.mode = mode
    b = browser(oidc_site(make_site, own_provider.issuer))
    back = come_back(b, requests.get(start(b), allow_redirects=False, timeout=10).headers['Location'])
    assert back.status_code == 403 and 'geen geldig bewijs' in back.get_data(as_text=True)
    assert b.get('/taken').status_code == 302


def test_a_forged_state_and_a_discovery_document_of_another_issuer_are_refused(make_site, own_provider):
    b = browser(oidc_site(make_site, own_provider.issuer))
    location = requests.get(start(b), allow_redirects=False, timeout=10).headers['Location']
    assert come_back(b, location.replace('state=', 'state=x')).status_code == 403
    own_provider.discovery_issuer = 'https://login.evil.example'
    other = browser(oidc_site(make_site, own_provider.issuer))
    assert other.get('/inloggen/organisatie').status_code == 403


def test_an_account_closed_with_its_party_is_told_so(app, clock, make_site, mock_provider):
    from datetime import datetime

    from engine.dates import AMSTERDAM
    from tests.conftest import start_procedure
    site = oidc_site(make_site, mock_provider)
    start_procedure(app, 'opzegging', by='zeist', circumstances='Andere prioriteiten in de wijkaanpak.')
    clock.set(datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    b = browser(site)
    back = through_mock(b, 'zeist')
    assert back.status_code == 403 and 'geen toegang' in back.get_data(as_text=True)
    assert b.get('/taken').status_code == 302  # not logged in
