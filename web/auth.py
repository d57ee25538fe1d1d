"""Logging in and out, and who the current person is."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from urllib.parse import urlsplit

from engine.accounts import LoginRefused

blueprint = Blueprint('auth', __name__)
login_manager = LoginManager()


class WebUser(UserMixin):
    def __init__(self, account):
        self.account = account
        # The epoch travels in the session: after a logout the stored one no longer matches.
        self.id = f'{account.id}:{account.session_epoch}'

    def __getattr__(self, name):
        return getattr(self.account, name)

    @property
    def is_auditor(self):
        return self.account.role == 'auditor'


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
            account = city_deal().login(email, request.form.get('password', '')[:1000], request.remote_addr or '?')
        except LoginRefused as refused:
            message = refused.problems[0].message
            error = _('Te veel pogingen; probeer het over 15 minuten opnieuw.') if message.startswith('too many') \
                else _('Het e-mailadres of het wachtwoord klopt niet.')
        else:
            # A fresh session at login: nothing from before (a planted session, its CSRF secret) carries over.
            session.clear()
            login_user(WebUser(account))
            from web.views import landing
            return redirect(_safe_next(request.args.get('next')) or landing(account))
    return render_template('login.html', error=error, email=email), 200 if error is None else 401


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
    app = city_deal()
    if account.role in ('projectleider', 'secretaris'):
        return app.tasks(role=account.role)
    tasks = [t for party in account.acts_for for t in app.tasks(party=party)]
    return sorted(tasks, key=lambda t: -t['procedure_id'])


def task_scope(account):
    """(parties, role) whose open tasks a person acts on: their role's, or their parties' (delegations too)."""
    if account.role in ('projectleider', 'secretaris'):
        return (), account.role
    return tuple(account.acts_for), None


def acting_for(account, task):
    """The party or role a person acts for on a task, or None when the task is not theirs."""
    if task['party'] and task['party'] in account.acts_for:
        return task['party']
    if task['role'] and task['role'] == account.role:
        return task['role']
    return None


def require(*roles, party=False):
    """403 unless the current person has one of ``roles`` (or, with ``party``, acts for a party)."""
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role in roles or (party and current_user.acts_for):
        return
    abort(403)
