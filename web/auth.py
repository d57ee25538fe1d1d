"""Logging in and out, and who the current person is."""
import os
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from urllib.parse import urlsplit

from engine.accounts import CLOSED_LOGIN, LoginRefused
from engine.errors import CommandRefused
from engine.rights import Caller
from engine.roles import AUDITORS, TASK_ROLES
from web import oidc

blueprint = Blueprint('auth', __name__)
login_manager = LoginManager()
#: the session key of a login that passed its first step and waits for the second factor
PENDING = 'login_pending'
PENDING_SECONDS = 300
DEFAULT_BASE_URL = 'http://127.0.0.1:5000'


class WebUser(UserMixin):
    def __init__(self, account):
        self.account = account
        # The epoch travels in the session: after a logout the stored one no longer matches.
        self.id = f'{account.id}:{account.session_epoch}'

    def __getattr__(self, name):
        return getattr(self.account, name)

    @property
    def is_auditor(self):
        return self.account.role in AUDITORS


def city_deal():
    return current_app.extensions['citydeal']


def init_app(app):
    login_manager.init_app(app)
    login_manager.login_view = 'auth.login'
    login_manager.login_message = None
    login_manager.session_protection = 'strong'


@login_manager.user_loader
def load_user(session_id):
    user_id, _, epoch = session_id.partition(':')
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    account = city_deal().account(int(user_id))
    return WebUser(account) if account and account.session_epoch == int(epoch) else None


def remote_addr():
    return request.remote_addr or '?'


def _hold_back(refused):
    """A wrong answer from an address that gave many comes later; a right one never waits."""
    if refused.delay:
        current_app.config.get('LOGIN_DELAY', time.sleep)(refused.delay)


def public_url(path):
    """An address for a mail: from CITYDEAL_BASE_URL, never from the request's Host header, which a
    guesser chooses (a reset link pointing at their own site would hand them the token)."""
    return os.environ.get('CITYDEAL_BASE_URL', DEFAULT_BASE_URL).rstrip('/') + path


def _safe_next(target):
    """Only a path on this site: never an absolute address someone slipped into the link."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith('/') else None


@blueprint.route('/inloggen', methods=['GET', 'POST'])
def login():
    error = None
    email = ''
    if request.method == 'POST':
        email = request.form.get('email', '')[:254]
        try:
            account = city_deal().login(email, request.form.get('password', '')[:1000], remote_addr(),
                                        link_base=public_url('/inloggen/link/'))
        except LoginRefused as refused:
            _hold_back(refused)
            error = _('Te veel pogingen; probeer het over 15 minuten opnieuw, of gebruik de link die we u mailden.') \
                if refused.too_many \
                else _('Dit account geeft vandaag geen toegang: het handelt niet (meer) namens een Partij en '
                       'heeft geen rol.') if refused.problems[0].code == CLOSED_LOGIN \
                else _('Het e-mailadres of het wachtwoord klopt niet.')
        else:
            return first_step_done(account, request.args.get('next'))
    return render_template('login.html', error=error, email=email, organisation=oidc.configured()), \
        200 if error is None else 401


def first_step_done(account, next_path=None):
    """Password, sign-in link or organisation passed: log in, or first ask for the second factor."""
    # A fresh session at login: nothing from before (a planted session, its CSRF secret) carries over.
    session.clear()
    if account.has_totp:
        session[PENDING] = {'id': account.id, 'epoch': account.session_epoch, 'at': time.time(),
                            'next': _safe_next(next_path)}
        return redirect(url_for('auth.second_step'))
    login_user(WebUser(account))
    from web.views import landing
    return redirect(_safe_next(next_path) or landing(account))


@blueprint.route('/inloggen/code', methods=['GET', 'POST'])
def second_step():
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = session.get(PENDING)
    if not pending or time.time() - pending['at'] > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash(_('Log opnieuw in: de stap met de code duurde te lang.'))
        return redirect(url_for('auth.login'))
    error = None
    if request.method == 'POST':
        try:
            account = city_deal().second_factor(pending['id'], request.form.get('code', '')[:40], remote_addr(),
                                                link_base=public_url('/inloggen/link/'))
        except LoginRefused as refused:
            _hold_back(refused)
            error = _('Te veel pogingen; probeer het over 15 minuten opnieuw.') if refused.too_many \
                else _('De code klopt niet. Gebruik de code die uw app nu toont, of een herstelcode.')
        else:
            if account.session_epoch == pending['epoch']:
                session.clear()
                login_user(WebUser(account))
                from web.views import landing
                return redirect(pending['next'] or landing(account))
            session.pop(PENDING, None)
            return redirect(url_for('auth.login'))
    return render_template('login_code.html', error=error), 200 if error is None else 401


@blueprint.route('/inloggen/link/<token>', methods=['GET', 'POST'])
def sign_in_link(token):
    """The one-time link a locked account's owner got by mail. GET only asks: a mail scanner that
    follows links must not use it up."""
    if request.method == 'POST':
        try:
            account = city_deal().sign_in_with_link(token[:100], remote_addr())
        except CommandRefused:
            return render_template('link_invalid.html'), 400
        return first_step_done(account)
    return render_template('sign_in_link.html')


@blueprint.route('/uitloggen', methods=['POST'])
def logout():
    if current_user.is_authenticated:
        city_deal().end_sessions(current_user.account.id)
        logout_user()
        session.clear()
    flash(_('U bent uitgelogd.'))
    return redirect(url_for('views.public'))


def tasks_for(account):
    """The open tasks a person may act on, newest procedure first: their role's, or their parties'."""
    return city_deal().tasks_of(Caller.for_account(account))


def task_scope(account):
    """(parties, role) whose open tasks a person acts on: their role's, or their parties' (delegations too)."""
    if account.role in TASK_ROLES:
        return (), account.role
    return tuple(account.acts_for), None


def caller(account=None, acting_for=None):
    """Who asks, for the engine to decide what they may do: the logged-in person by default."""
    return Caller.for_account(account or current_user.account, acting_for)


def require(*roles, party=False):
    """403 unless the current person has one of ``roles`` (or, with ``party``, acts for a party)."""
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role in roles or (party and current_user.acts_for):
        return
    abort(403)
