"""Two web processes and two schedulers against one PostgreSQL database: every party consenting at
once through both web processes, round after round, and each reminder sent exactly once.
Runs in the PostgreSQL pass of `make test` (it needs CITYDEAL_TEST_POSTGRES)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.dates import AMSTERDAM
from engine.models import OutboxMessage, Procedure
from tests.conftest import open_consultation, start_amendment
from tests.web_support import add_accounts, fast_hashing

pytestmark = pytest.mark.postgres
ROUNDS = 30  # the 100-round test runs on SQLite, in threads and in processes; 10-minute suite


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def deal_time(start):
    offset = start - datetime.now(timezone.utc)
    return lambda: (datetime.now(timezone.utc) + offset).isoformat()


@pytest.mark.skipif(not os.environ.get('CITYDEAL_TEST_POSTGRES'), reason='needs the PostgreSQL pass of make test')
def test_two_web_processes_and_two_schedulers_on_one_database(app, db_url, tmp_path, monkeypatch):
    fast_hashing(monkeypatch)
    add_accounts(app)
    now = deal_time(datetime(2021, 5, 10, 8, 59, 0, tzinfo=AMSTERDAM))
    env = dict(os.environ, CITYDEAL_DATABASE_URL=db_url, CITYDEAL_SECRET_KEY='two-webs', CITYDEAL_SMTP_PORT='9')
    first = start_amendment(app)  # opened on 12 April: its reminders fall due on 10 May, 09:00
    open_consultation(app, first)
    app.tick()  # the year's cycle, due since the deal began, out of the way
    next_id = max(p['id'] for p in app.procedures()) + 1
    ports = [free_port(), free_port()]
    processes, logs = [], []
    try:
        for port in ports:
            processes.append(subprocess.Popen([sys.executable, '-m', 'citydeal.cli', 'serve', '--port', str(port)],
                                              env=dict(env, CITYDEAL_NOW=now()), cwd=tmp_path,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for name in ('a', 'b'):
            logs.append(open(tmp_path / f'{name}.log', 'w'))
            processes.append(subprocess.Popen([sys.executable, '-m', 'citydeal.cli', 'scheduler', '--lease-seconds', '3'],
                                              env=dict(env, CITYDEAL_NOW=now()), cwd=tmp_path,
                                              stdout=logs[-1], stderr=subprocess.STDOUT))
        for port in ports:
            _wait_for(port)
        parties = [p['code'] for p in app.parties() if p['code'] != 'bzk']
        tokens = {code: app.create_token(f'{code}@deal.example', 'worker')[1] for code in parties}
        groups = [dict(list(tokens.items())[i::4]) for i in range(4)]
        workers = [subprocess.Popen([sys.executable, str(Path(__file__).parent / 'api_worker.py'),
                                     f'http://127.0.0.1:{ports[i % 2]}', json.dumps(group), str(ROUNDS),
                                     str(next_id)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i, group in enumerate(groups)]
        for round_ in range(ROUNDS):
            pid = start_amendment(app)
            open_consultation(app, pid)
            deadline = time.monotonic() + 60
            while True:
                with app.unit_of_work() as uow:
                    if uow.session.get(Procedure, pid).status == 'completed':
                        break
                assert time.monotonic() < deadline, f'round {round_} did not complete'
                time.sleep(0.05)
        outputs = [w.communicate(timeout=60) for w in workers]
        assert [w.returncode for w in workers] == [0] * 4, outputs
        time.sleep(max(0.0, (datetime.fromisoformat('2021-05-10T09:00:08+02:00')
                             - datetime.fromisoformat(now())).total_seconds()))
        assert datetime.fromisoformat(now()) > datetime.fromisoformat('2021-05-10T09:00:05+02:00')
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()
    adopted = [p for p in app.procedures() if p['id'] >= next_id]
    assert len(adopted) == ROUNDS and {p['outcome'] for p in adopted} == {'adopted'}
    with app.unit_of_work() as uow:
        keys = uow.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.event == 'reminder', OutboxMessage.dedupe_key.startswith(f'reminder:{first}:'))).all()
    assert len(keys) == 16 and len(set(keys)) == 16  # the first request's 14-day reminders, once each
    assert app.verify_audit().ok


def _wait_for(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f'web process on {port} did not start')
