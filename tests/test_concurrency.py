"""All parties consenting at the same moment, round after round: every round adopted, every answer
recorded once, the audit chain intact. In threads through the engine, and in separate processes
through the API of two web processes while two schedulers run. On SQLite and on PostgreSQL."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.dates import AMSTERDAM
from engine.models import Answer, OutboxMessage, Procedure
from tests.conftest import open_consultation, start_amendment
from tests.web_support import add_accounts, fast_hashing

ROUNDS = 100
pytestmark = pytest.mark.slow


def answers_per_party(app):
    with app.unit_of_work() as uow:
        return uow.session.execute(select(Answer.procedure_id, Answer.party_code, func.count())
                                   .group_by(Answer.procedure_id, Answer.party_code)).all()


def check(app, rounds):
    procedures = app.procedures()
    assert [p['outcome'] for p in procedures] == ['adopted'] * rounds
    counts = answers_per_party(app)
    assert len(counts) == rounds * 17 and {c for _, _, c in counts} == {1}
    assert app.verify_audit().ok


def _answer(app, task, barrier, errors, round_):
    barrier.wait()
    try:
        app.complete(task['id'], task['party'], {'decision': 'consent', 'statement': f'ronde {round_}'})
    except Exception as error:  # noqa: BLE001 - collected and asserted by the test
        errors.append(error)


def test_every_party_at_once_in_threads_for_100_rounds(app):
    for round_ in range(ROUNDS):
        pid = start_amendment(app)
        open_consultation(app, pid)
        tasks = [t for t in app.tasks() if t['party']]
        barrier = threading.Barrier(len(tasks))
        errors = []
        threads = [threading.Thread(target=_answer, args=(app, t, barrier, errors, round_)) for t in tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    check(app, ROUNDS)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def deal_time(start):
    """ISO deal time that runs with the real clock from `start`, as CITYDEAL_NOW makes it run."""
    offset = start - datetime.now(timezone.utc)
    return lambda: (datetime.now(timezone.utc) + offset).isoformat()


def wait_for(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f'web process on {port} did not start')


def wait_until_completed(app, pid, round_):
    deadline = time.monotonic() + 60
    while True:
        with app.unit_of_work() as uow:
            if uow.session.get(Procedure, pid).status == 'completed':
                return
        assert time.monotonic() < deadline, f'round {round_} did not complete'
        time.sleep(0.02)


@pytest.mark.cli
def test_every_party_at_once_through_two_web_processes_beside_two_schedulers_for_100_rounds(
        app, db_url, tmp_path, monkeypatch):
    """Four API clients, in processes of their own, answer for four parties each through two web
    processes, while two schedulers run; the first request's reminders fall due meanwhile."""
    fast_hashing(monkeypatch)
    add_accounts(app)
    first = start_amendment(app)  # opened on 12 April: its reminders fall due on 10 May, 09:00
    open_consultation(app, first)
    app.tick()  # the year's cycle, due since the deal began, out of the way
    now = deal_time(datetime(2021, 5, 10, 8, 59, 57, tzinfo=AMSTERDAM))
    env = dict(os.environ, CITYDEAL_DATABASE_URL=db_url, CITYDEAL_SECRET_KEY='two-webs', CITYDEAL_SMTP_PORT='9')
    ports = [free_port(), free_port()]
    commands = [['serve', '--port', str(port)] for port in ports] + [['scheduler', '--lease-seconds', '3']] * 2
    logs = [open(tmp_path / f'{command[0]}-{i}.log', 'w') for i, command in enumerate(commands)]
    processes = [subprocess.Popen([sys.executable, '-m', 'citydeal.cli', *command], cwd=tmp_path,
                                  env=dict(env, CITYDEAL_NOW=now()), stdout=log, stderr=subprocess.STDOUT)
                 for command, log in zip(commands, logs, strict=True)]
    next_id = max(p['id'] for p in app.procedures()) + 1
    parties = [p['code'] for p in app.parties() if p['code'] != 'bzk']
    tokens = {code: app.create_token(f'{code}@deal.example', 'worker')[1] for code in parties}
    groups = [dict(list(tokens.items())[i::4]) for i in range(4)]
    workers = []
    try:
        for port in ports:
            wait_for(port)
        workers = [subprocess.Popen([sys.executable, str(Path(__file__).parent / 'api_worker.py'),
                                     f'http://127.0.0.1:{ports[i % 2]}', json.dumps(group), str(ROUNDS),
                                     str(next_id)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i, group in enumerate(groups)]
        for round_ in range(ROUNDS):
            pid = start_amendment(app)
            assert pid == next_id + round_
            open_consultation(app, pid)
            wait_until_completed(app, pid, round_)
        outputs = [w.communicate(timeout=60) for w in workers]
        reminders_sent = datetime.fromisoformat('2021-05-10T09:00:05+02:00')
        time.sleep(max(0.0, (reminders_sent - datetime.fromisoformat(now())).total_seconds()))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        for process in processes + workers:
            process.wait(timeout=30)
        for log in logs:
            log.close()
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert sum(int(out) for out, _ in outputs) == ROUNDS * 16
    rounds = [p for p in app.procedures() if p['id'] >= next_id]
    assert len(rounds) == ROUNDS and {p['outcome'] for p in rounds} == {'adopted'}
    counts = [c for pid, _, c in answers_per_party(app) if pid >= next_id]
    assert len(counts) == ROUNDS * 17 and set(counts) == {1}
    with app.unit_of_work() as uow:
        keys = uow.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.event == 'reminder', OutboxMessage.dedupe_key.startswith(f'reminder:{first}:'))).all()
    assert len(keys) == 16 and len(set(keys)) == 16  # the first request's 14-day reminders, once each
    assert app.verify_audit().ok
