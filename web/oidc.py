"""Login through the organisation: OpenID Connect, authorization code flow with PKCE (Authlib).

Configured by CITYDEAL_OIDC_ISSUER, CITYDEAL_OIDC_CLIENT_ID and CITYDEAL_OIDC_CLIENT_SECRET; the
endpoints and keys come from the issuer's discovery document and JWKS. Authlib keeps state, nonce
and the PKCE verifier in the session and checks the ID token's signature, issuer, audience, expiry
and nonce; the account is the one whose address is the token's ``email`` claim, verified by the
organisation (``email_verified``). Anything else is refused with a page that says why.
"""
import logging
import os

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, current_app, render_template, url_for
from flask_babel import gettext as _
from joserfc.errors import JoseError
from requests.exceptions import RequestException

from engine.accounts import CLOSED_LOGIN, LoginRefused

blueprint = Blueprint('oidc', __name__)
NAME = 'organisation'
log = logging.getLogger(__name__)


def settings(environ=os.environ):
    """(issuer, client id, client secret), or None when login through the organisation is not set up."""
    found = tuple(environ.get(f'CITYDEAL_OIDC_{key}', '').strip() for key in ('ISSUER', 'CLIENT_ID', 'CLIENT_SECRET'))
    return found if all(found) else None


def configured():
    return 'citydeal_oidc' in current_app.extensions


def init_app(app):
    found = settings()
    if found is None:
        return
    issuer, client_id, client_secret = found
    issuer = issuer.rstrip('/')
    # One OAuth registry per app: its client caches the provider's discovery document and keys.
    oauth = OAuth(app)
    oauth.register(NAME, client_id=client_id, client_secret=client_secret,
                   server_metadata_url=f'{issuer}/.well-known/openid-configuration',
                   client_kwargs={'scope': 'openid email', 'code_challenge_method': 'S256', 'timeout': 10})
    app.config['CITYDEAL_OIDC_ISSUER'] = issuer
    app.extensions['citydeal_oidc'] = oauth


def _client():
    oauth = current_app.extensions.get('citydeal_oidc')
    if oauth is None:
        abort(404)
    return oauth.create_client(NAME)


def _refused(reason, status=403):
    return render_template('oidc_refused.html', reason=reason), status


@blueprint.route('/inloggen/organisatie')
def start():
    """A link, not a form: the CSP's form-action 'self' would stop a form's redirect to the provider. Starting
    a login from another site gains nothing: the state ties the answer to this browser's session."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as error:
        log.warning('OpenID provider unreachable: %s', error)
        return _refused(_('De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het later opnieuw.'), 502)
    if metadata.get('issuer', '').rstrip('/') != current_app.config['CITYDEAL_OIDC_ISSUER']:
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched from.
        return _refused(_('De inlogdienst van uw organisatie gaf zich voor een andere uit. Er is niet ingelogd.'))
    from web.auth import public_url
    # The address registered at the provider, not one made from the request's Host header.
    return client.authorize_redirect(public_url(url_for('oidc.callback')))


@blueprint.route('/inloggen/organisatie/terug')
def callback():
    from web import auth
    from web.labels import problem_text
    client = _client()
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, RequestException, ValueError) as error:
        # A wrong state, issuer, audience, signature, nonce, or an expired token: all end here.
        log.warning('OpenID Connect login refused: %s', error)
        return _refused(_('De inlogdienst van uw organisatie gaf geen geldig bewijs van wie u bent (verlopen, '
                          'niet voor deze site bedoeld, of niet van deze dienst). Er is niet ingelogd.'))
    claims = token.get('userinfo') or {}
    if not claims.get('email'):
        return _refused(_('Uw organisatie gaf geen e-mailadres door. Er is niet ingelogd.'))
    if claims.get('email_verified') is not True:
        return _refused(_('Uw organisatie heeft uw e-mailadres niet bevestigd. Er is niet ingelogd.'))
    try:
        account = auth.city_deal().account_for_verified_email(claims['email'], auth.remote_addr())
    except LoginRefused as refused:
        if refused.problems[0].code == CLOSED_LOGIN:  # its party left: say so, as the password login does
            return _refused(problem_text(refused.problems[0]))
        return _refused(_('Er is geen account met het e-mailadres %(email)s. Vraag de beheerder om een account.',
                          email=claims['email']))
    return auth.first_step_done(account)
