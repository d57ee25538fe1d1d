"""Shared set-up for the web tests: accounts for every party and role, a client that logs in
and posts forms with their CSRF token, as a browser would."""
import re

from argon2 import PasswordHasher

from engine import accounts

PASSWORD = 'een-lang-wachtwoord-2021'
ROLES = ('projectleider', 'secretaris', 'auditor', 'admin')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def fast_hashing(monkeypatch):
    """argon2 at its cheapest, so that twenty accounts take milliseconds; production keeps the defaults."""
    monkeypatch.setattr(accounts, '_hasher', PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def add_accounts(app):
    for party in app.parties():
        app.add_user(f"{party['code']}@deal.example", PASSWORD, party=party['code'])
    for role in ROLES:
        app.add_user(f'{role}@deal.example', PASSWORD, role=role)


def email_of(who):
    return f'{who}@deal.example'


class Browser:
    """A Flask test client that behaves like a person's browser: GET the form, POST it with its token."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def token(self, path):
        page = self.client.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        return found.group(1) if found else None

    def post(self, path, data, token_from=None, with_token=True):
        data = dict(data)
        if with_token:
            data['csrf_token'] = self.token(token_from or path)
        return self.client.post(path, data=data)

    def login(self, who):
        return self.post('/inloggen', {'email': email_of(who), 'password': PASSWORD})


def browser(site, who=None):
    """A new browser of ``site`` (conftest's ``site`` or one ``make_site`` made), logged in as ``who`` (a party's
    code or a role) when given."""
    b = Browser(site.test_client())
    if who:
        assert b.login(who).status_code == 302
    return b
