"""How often the public forms may be sent: flask-limiter, keyed by the client's address.

flask-limiter rather than a counter of our own: it answers 429 with ``Retry-After`` and keeps its
counts in a storage of choice (``CITYDEAL_RATELIMIT_STORAGE_URI``: ``memory://`` in each process by
default; ``redis://...`` or ``memcached://...`` to share one count between gunicorn workers).
The address is ``request.remote_addr``: behind a reverse proxy ProxyFix sets it from
``X-Forwarded-For`` as far as ``CITYDEAL_TRUSTED_PROXIES`` allows (web/app.py, README).
"""
import os

from flask import request
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


def init_app(app):
    limiter.init_app(app)
