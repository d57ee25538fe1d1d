"""The Flask application factory: configuration, extensions, blueprints, security headers, errors."""
import os
import secrets
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from citydeal.bootstrap import CityDeal
from engine.database import create_private_dir
from engine.dates import zone
from web import account, api, auth, formatting, labels, limits, oidc, uploads, views

LANGUAGES = ('nl', 'en')
csrf = CSRFProtect()
babel = Babel()


def _secret_key():
    """CITYDEAL_SECRET_KEY, else a key kept in var/ so that sessions survive a restart."""
    if os.environ.get('CITYDEAL_SECRET_KEY'):
        return os.environ['CITYDEAL_SECRET_KEY']
    path = Path('var/secret_key')
    create_private_dir(path.parent)
    try:
        # Private from the first byte, whatever the umask; of two processes starting at once one writes it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, 'w') as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _theme_path(app):
    """CITYDEAL_THEME (a CSS file of design tokens) if set, else the default; a missing file stops the start."""
    custom = os.environ.get('CITYDEAL_THEME')
    path = Path(custom).resolve() if custom else Path(app.static_folder, 'nlds', 'theme.css')
    if not path.is_file():
        raise ValueError(f'CITYDEAL_THEME: {path} is not a file (a CSS file of custom properties)')
    return path


def select_locale():
    """Dutch unless the person chose English with the link in the header (kept in the session)."""
    chosen = request.args.get('lang')
    if chosen in LANGUAGES:
        session['lang'] = chosen
    return session.get('lang') or 'nl'


#: what the API says with the status codes the web app answers with a page
API_DETAILS = {400: 'The request could not be read.', 403: 'Your token may not do this.',
               404: 'There is no such resource.', 405: 'This method is not allowed here.',
               413: 'The request is too large.', 429: 'Too many requests: try again later.',
               500: 'Something went wrong on our side; nothing was stored.'}

def create_app(city_deal=None, config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=os.environ.get('CITYDEAL_HTTPS') == '1',
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE='Lax',
        MAX_CONTENT_LENGTH=256 * 1024,
        BABEL_DEFAULT_LOCALE='nl',
        # Tokens die with the session (renewed at login, ended at logout) rather than on a timer that
        # would throw away a long statement typed before a meeting.
        WTF_CSRF_TIME_LIMIT=None,
        # Where links in mail point (the confirmation of a request to join): never the request's Host.
        CITYDEAL_BASE_URL=os.environ.get('CITYDEAL_BASE_URL') or None,
    )
    app.config.update(config or {})
    proxies = int(os.environ.get('CITYDEAL_TRUSTED_PROXIES', '0') or 0)
    if proxies:
        # Behind a reverse proxy the client's address (for the login limit) is in X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.extensions['citydeal'] = city_deal or CityDeal()
    app.extensions['citydeal'].prepare_logins()
    app.jinja_env.add_extension('jinja2.ext.do')
    app.jinja_env.globals.update(field_label=labels.field_label, value_label=labels.value_label,
                                 outcome_label=labels.outcome_label, event_label=labels.event_label,
                                 type_label=labels.type_label, start_label=labels.start_label,
                                 title_of=labels.procedure_title, whats_next=labels.whats_next,
                                 applicant_of=labels.applicant, types_about_a_procedure=labels.types_about_a_procedure,
                                 event_codes=sorted(labels.EVENTS))
    formatting.init_app(app)
    uploads.init_app(app)  # before CSRFProtect: the limit of a form with files is set before it is read
    csrf.init_app(app)
    # times in the loaded deal's zone (its file's ``timezone``), as the engine computes them
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: zone().key,
                   default_domain='messages')
    auth.init_app(app)
    oidc.init_app(app)
    limits.init_app(app)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(oidc.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    csrf.exempt(api.blueprint)  # bearer tokens, no cookies: nothing for a forged form to ride on

    theme_path = _theme_path(app)

    @app.route('/theme.css')
    def theme():
        """The design tokens: the default NL Design System example theme, or an organisation's own file
        (CITYDEAL_THEME, the path of a CSS file of custom properties)."""
        from flask import send_file
        return send_file(theme_path, mimetype='text/css', max_age=3600)

    @app.before_request
    def _lang():
        g.lang = select_locale()

    @app.after_request
    def _security_headers(response):
        response.headers['Content-Security-Policy'] = (
            "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
        response.headers['X-Frame-Options'] = 'DENY'
        response.headers['X-Content-Type-Options'] = 'nosniff'
        response.headers['Referrer-Policy'] = 'same-origin'
        response.headers['Cross-Origin-Opener-Policy'] = 'same-origin'
        if current_user.is_authenticated:
            # Receipts and confidential texts must not stay behind in a shared browser's cache.
            response.headers['Cache-Control'] = 'no-store'
        if app.config['SESSION_COOKIE_SECURE']:
            response.headers['Strict-Transport-Security'] = 'max-age=31536000; includeSubDomains'
        return response

    def error_page(status, title, detail):
        if request.path.startswith('/api/'):
            # The API speaks one language, English, whatever the browser's or the page's.
            return api.problem(status, HTTP_STATUS_CODES.get(status, 'Error'), API_DETAILS.get(status, ''))
        return render_template('error.html', status=status, title=title, detail=detail), status

    @app.errorhandler(Exception)
    def _api_errors(error):
        if request.path.startswith('/api/'):
            return api.handle_error(error)
        if isinstance(error, HTTPException):
            return error
        raise error

    from flask_babel import gettext as _

    app.register_error_handler(CSRFError, lambda e: error_page(
        400, _('Formulier verlopen'), _('Het formulier was verlopen of niet van deze site. Probeer het opnieuw.')))
    app.register_error_handler(400, lambda e: error_page(
        400, _('Onjuiste vraag'), _('De pagina kon met deze gegevens niet worden getoond. Controleer de invoer.')))
    app.register_error_handler(403, lambda e: error_page(
        403, _('Geen toegang'), _('U mag deze pagina niet zien of deze handeling niet uitvoeren.')))
    app.register_error_handler(404, lambda e: error_page(404, _('Niet gevonden'), _('Deze pagina bestaat niet.')))
    def not_allowed(error):
        response = error_page(405, _('Niet toegestaan'), _('Deze handeling kan hier niet.'))
        response = app.make_response(response)
        # RFC 9110: a 405 names the methods that are allowed.
        response.headers['Allow'] = ', '.join(sorted(error.valid_methods or ()))
        return response

    app.register_error_handler(405, not_allowed)
    # flask-limiter adds Retry-After (seconds) to this answer.
    app.register_error_handler(429, lambda e: error_page(
        429, _('Te veel verzoeken'), _('U heeft dit formulier te vaak verstuurd. Probeer het over een uur opnieuw.')))
    def too_large(error):
        if uploads.files_too_large():
            return error_page(413, _('Te groot'), _(
                'Wat u verstuurde is te groot. Een document mag ten hoogste %(max)s MB zijn, en alle documenten '
                'samen ten hoogste %(total)s MB. Er is niets opgeslagen. Ga terug en kies een kleiner bestand of '
                'minder bestanden.', max=uploads.MAX_MB, total=uploads.MOST_FILES * uploads.MAX_MB))
        return error_page(413, _('Te groot'), _('Wat u verstuurde is te groot. Maak de tekst korter.'))

    app.register_error_handler(413, too_large)
    app.register_error_handler(500, lambda e: error_page(
        500, _('Er ging iets mis'), _('Er ging iets mis aan onze kant; er is niets opgeslagen. Probeer het opnieuw.')))
    return app
