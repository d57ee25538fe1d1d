"""How often the public forms may be sent: flask-limiter, keyed by the client's address.

flask-limiter rather than a counter of our own: it answers 429 with ``Retry-After`` and keeps its
counts in a storage of choice (``CITYDEAL_RATELIMIT_STORAGE_URI``: ``memory://`` in each process by
default; ``redis://...`` or ``memcached://...`` to share one count between gunicorn workers).
The address is ``request.remote_addr``: behind a reverse proxy ProxyFix sets it from
``X-Forwarded-For`` as far as ``CITYDEAL_TRUSTED_PROXIES`` allows (web/app.py, README).
"""
import os
import threading

from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: requests to join kept in an hour, per client address and per applicant's e-mail address
ACCESSION_LIMIT = '5 per hour'

limiter = Limiter(key_func=get_remote_address, headers_enabled=True,
                  storage_uri=os.environ.get('CITYDEAL_RATELIMIT_STORAGE_URI') or 'memory://')


def kept(response):
    """Counted: a request kept and mailed (200). A refused one (422) keeps and sends nothing, and a
    person correcting a typo must not use up the hour's five."""
    return response.status_code == 200


def applicant_address():
    """The second key: one victim's mailbox is not flooded from many client addresses either."""
    return 'email:' + (request.form.get('email') or '').strip().lower()[:254]


#: a request to join is counted only once kept (``kept``, after the view); the check before the view and that
#: count are one step per process, so that requests sent at the same moment cannot all pass the check
_ONE_REQUEST_TO_JOIN_AT_A_TIME = threading.Lock()


def init_app(app):
    @app.before_request
    def _one_at_a_time():  # registered before the limiter's own check, so it runs first
        if request.method == 'POST' and request.endpoint == 'views.accession':
            _ONE_REQUEST_TO_JOIN_AT_A_TIME.acquire()
            g.holds_accession_lock = True

    @app.teardown_request
    def _release(error):  # after the limiter counted the answer
        if g.pop('holds_accession_lock', False):
            _ONE_REQUEST_TO_JOIN_AT_A_TIME.release()

    limiter.init_app(app)
