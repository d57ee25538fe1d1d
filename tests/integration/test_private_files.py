"""Holes closed: deeply nested JSON is a bad request, and the secret key and the SQLite file are private
(mode 0600) from the first byte, whatever the umask."""
import os
import stat

import pytest

from citydeal.bootstrap import CityDeal
from tests.conftest import DEAL_FILE
from web import app as web_app


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_deeply_nested_json_is_a_bad_request_not_a_crash(app, site):
    token = app.create_token('zeist@deal.example', 'test')[1]
    client = site.test_client()
    response = client.post('/api/v1/procedures', data='[' * 10000 + ']' * 10000, content_type='application/json',
                           headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 400 and response.mimetype == 'application/problem+json'
    assert response.get_json()['invalid-params'] == [{'name': 'body', 'reason': 'nested too deeply'}]


def test_the_secret_key_is_private_before_it_is_written(tmp_path, monkeypatch, open_umask):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('CITYDEAL_SECRET_KEY', raising=False)
    seen = []
    real = web_app.secrets.token_hex

    def spy(length):
        path = tmp_path / 'var' / 'secret_key'
        seen.append(_mode(path) if path.exists() else 'not yet made')
        return real(length)

    monkeypatch.setattr(web_app.secrets, 'token_hex', spy)
    key = web_app._secret_key()
    assert seen == [0o600] and _mode(tmp_path / 'var' / 'secret_key') == 0o600
    assert web_app._secret_key() == key and len(seen) == 1  # made once, then read


def test_the_sqlite_file_is_created_private(tmp_path, clock, open_umask):
    path = tmp_path / 'private.db'
    instance = CityDeal(url=f'sqlite:///{path}', clock=clock)
    try:
        instance.init(DEAL_FILE)
        for name in ('private.db', 'private.db-wal', 'private.db-shm'):
            if (tmp_path / name).exists():
                assert _mode(tmp_path / name) == 0o600, name
    finally:
        instance.close()
    assert _mode(path) == 0o600


def test_var_and_the_documents_folder_are_private_whatever_the_umask(tmp_path, monkeypatch):
    from engine import documents
    from engine.database import database_url
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('CITYDEAL_DATABASE_URL', raising=False)
    previous = os.umask(0o000)
    try:
        database_url()
        stored = documents.Store(tmp_path / 'var' / 'documents').put(b'Een werkplan.\n')
    finally:
        os.umask(previous)
    for folder in (tmp_path / 'var', tmp_path / 'var' / 'documents', tmp_path / 'var' / 'documents' / stored[:2]):
        assert _mode(folder) == 0o700, folder
    assert _mode(tmp_path / 'var' / 'documents' / stored[:2] / stored) == 0o400
