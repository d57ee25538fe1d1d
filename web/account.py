"""Account care: /account (second factor, recovery codes, tokens, delegations), turning TOTP on and
off, and "Wachtwoord vergeten" with a one-time link by mail.

CITYDEAL_REQUIRE_TOTP names the roles (and ``partij`` for parties' representatives) that must have
a second factor: such a person, logged in without one, sees only the page that turns it on.
"""
import base64
import os
import time

import qrcode
import qrcode.image.svg
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import totp
from engine.errors import CommandRefused
from engine.runner import Actor
from web.labels import problem_text
from web.auth import city_deal, public_url

blueprint = Blueprint('account', __name__)
#: the secret being set up, kept in the session until a code proves the app has it
SETUP_SECRET = 'totp_setup_secret'
#: what a person who must set up a second factor may still reach
#: every request for a reset link is answered after this long, whether or not the address has an account
RESET_ANSWER_SECONDS = 0.25
OPEN_ENDPOINTS = {'account.second_factor', 'auth.logout', 'static', 'theme', 'views.accessibility',
                  'account.calendar'}


def required_for(account, environ=os.environ):
    """Whether CITYDEAL_REQUIRE_TOTP asks a second factor of this person (e.g. ``projectleider,secretaris``)."""
    wanted = {part.strip() for part in environ.get('CITYDEAL_REQUIRE_TOTP', '').split(',') if part.strip()}
    return (account.role in wanted) if account.role else ('partij' in wanted)


@blueprint.before_app_request
def _second_factor_first():
    if (current_user.is_authenticated and not current_user.has_totp and request.endpoint not in OPEN_ENDPOINTS
            and required_for(current_user.account)):
        if request.path.startswith('/api/'):
            return None  # tokens: their person's rights, set up from the web app
        flash(_('Stel eerst een tweede factor in: voor uw rol is die verplicht.'))
        return redirect(url_for('account.second_factor'))
    return None


@blueprint.route('/account')
@login_required
def overview(feed_url=None):
    app = city_deal()
    return render_template('account.html', overview=app.account_overview(current_user.account.id),
                           required=required_for(current_user.account), feed_url=feed_url,
                           feed_since=app.calendar_feed_since(current_user.account.id))


@blueprint.route('/account/agenda', methods=['POST'])
@login_required
def calendar_feed():
    """Make a new private calendar address (shown once; the old one stops working), or revoke it."""
    app = city_deal()
    actor = Actor(current_user.name, current_user.party or current_user.role, current_user.account.id)
    if request.form.get('action') == 'revoke':
        app.revoke_calendar_feed(current_user.account.id, actor)
        flash(_("Uw agenda-adres is ingetrokken. Agenda's die het gebruikten, krijgen geen nieuwe termijnen meer."))
        return redirect(url_for('account.overview'))
    secret = app.create_calendar_feed(current_user.account.id, actor)
    return overview(feed_url=public_url(url_for('account.calendar', secret=secret)))


@blueprint.route('/agenda/<secret>.ics')
def calendar(secret):
    """The person's calendar, for a calendar program: no login, the secret address is the key."""
    ics = city_deal().calendar_of(secret[:100], public_url(''))
    if ics is None:
        abort(404)
    return Response(ics, mimetype='text/calendar', headers={
        'Cache-Control': 'private, no-store', 'Content-Disposition': 'inline; filename="agenda.ics"'})


def _qr_data_uri(uri):
    """The otpauth: address as a QR code, an SVG in a data: address (the CSP allows img-src data:)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=12, border=2)
    return 'data:image/svg+xml;base64,' + base64.b64encode(image.to_string()).decode('ascii')


def _grouped(secret):
    return ' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))


@blueprint.route('/account/tweede-factor', methods=['GET', 'POST'])
@login_required
def second_factor():
    app, account = city_deal(), current_user.account
    error, codes = None, None
    if request.method == 'POST':
        action, code = request.form.get('action'), request.form.get('code', '')[:40]
        try:
            if action == 'enable' and session.get(SETUP_SECRET):
                codes = app.enable_totp(account.id, session[SETUP_SECRET], code)
                session.pop(SETUP_SECRET)
            elif action == 'disable':
                app.disable_totp(account.id, code)
                flash(_('De tweede factor staat uit.'))
                return redirect(url_for('account.overview'))
            elif action == 'renew':
                codes = app.renew_recovery_codes(account.id, code)
        except CommandRefused:
            error = _('De code klopt niet. Gebruik de code die uw app nu toont.')
        if codes is not None:
            return render_template('recovery_codes.html', codes=codes)
    enabled = city_deal().account(account.id).has_totp
    secret = None
    if not enabled:
        secret = session.get(SETUP_SECRET) or totp.new_secret()
        session[SETUP_SECRET] = secret
    names = city_deal().deal_names()
    uri = secret and totp.provisioning_uri(secret, account.email, names and names['citeertitel'])
    return render_template('second_factor.html', enabled=enabled, error=error, secret=secret and _grouped(secret),
                           qr=secret and _qr_data_uri(uri),
                           required=required_for(account)), 200 if error is None else 422


@blueprint.route('/wachtwoord-vergeten', methods=['GET', 'POST'])
def forgotten_password():
    sent = False
    if request.method == 'POST':
        began = time.monotonic()
        city_deal().request_password_reset(request.form.get('email', '')[:254], public_url('/wachtwoord-herstellen/'))
        # The same answer after the same time whether or not the address has an account (a link is queued only
        # for one that has): how long it took must not tell a guesser which addresses exist.
        current_app.config.get('LOGIN_DELAY', time.sleep)(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - began)))
        sent = True
    return render_template('forgotten_password.html', sent=sent)


@blueprint.route('/wachtwoord-herstellen/<token>', methods=['GET', 'POST'])
def reset_password(token):
    app = city_deal()
    token = token[:100]
    if app.password_reset_account(token) is None:
        return render_template('link_invalid.html'), 400
    errors = {}
    if request.method == 'POST':
        password = request.form.get('password', '')[:1000]
        if password != request.form.get('repeat', '')[:1000]:
            errors['repeat'] = _('De twee wachtwoorden zijn niet gelijk.')
        else:
            try:
                app.reset_password(token, password)
            except CommandRefused as refused:
                errors['password'] = problem_text(refused.problems[0])
            else:
                flash(_('Uw nieuwe wachtwoord is ingesteld. Log ermee in.'))
                return redirect(url_for('auth.login'))
    return render_template('reset_password.html', errors=errors), 422 if errors else 200


