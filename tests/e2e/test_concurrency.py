"""All parties consenting at the same moment, round after round: every round adopted, every answer
recorded once, the audit chain intact. In threads through the engine, and in separate processes
through the API of two web processes while two schedulers run. On SQLite and on PostgreSQL."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.dates import AMSTERDAM
from engine.models import Answer, OutboxMessage
from tests.conftest import AppTime, complete_task, open_consultation, start_amendment, wait_until
from tests.smtp_server import free_ports
from tests.web_support import add_accounts, fast_hashing

ROUNDS = 100
#: rounds through the API of two web processes: each starts four client processes and waits for every answer,
#: so fewer than in threads keep the suite within its time on two cores
PROCESS_ROUNDS = 50
#: rounds open at the same time in that test: a request is put while the clients answer the ones before it
OPEN_AT_ONCE = 3
pytestmark = pytest.mark.slow


def answers_per_party(app):
    with app.unit_of_work() as uow:
        return uow.session.execute(select(Answer.procedure_id, Answer.party_code, func.count())
                                   .group_by(Answer.procedure_id, Answer.party_code)).all()


def check(app, rounds, since=1):
    """The rounds from procedure `since` on: each adopted, each party's answer recorded once; the chain intact."""
    procedures = [p for p in app.procedures() if p['id'] >= since]
    assert [p['outcome'] for p in procedures] == ['adopted'] * rounds
    counts = [c for pid, _, c in answers_per_party(app) if pid >= since]
    assert len(counts) == rounds * 17 and set(counts) == {1}
    assert app.verify_audit().ok


def _answer(app, task, barrier, errors, round_):
    barrier.wait()
    try:
        complete_task(app, task['id'], task['party'], {'decision': 'consent', 'statement': f'ronde {round_}'})
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


def accepts_connections(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def completed(app, pid):
    return app.show(pid)['status'] == 'completed'  # a read: no writer waits for it


def stop(processes, logs):
    """SIGTERM, as a service manager stops them; a process that does not stop is killed and named."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    hanging = []
    for process, log in zip(processes, logs, strict=True):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            hanging.append(log.name)
        log.close()
    assert hanging == [], f'did not stop on SIGTERM: {hanging}'


@pytest.mark.cli
def test_every_party_at_once_through_two_web_processes_beside_two_schedulers_for_50_rounds(
        app, app_url, smtp, tmp_path, monkeypatch):
    """Four API clients, in processes of their own, answer for four parties each through two web
    processes, while two schedulers run and send the mail, and this process puts the next requests
    (up to three rounds open at once). The deal's clock stands at 10 May, 08:59:57
    for them and at 12 April for this process, which opens the rounds: at 09:00 the reminders of the
    first request fall due, and those of every round still open then, racing its answers. Each that
    goes out goes out once."""
    fast_hashing(monkeypatch)
    add_accounts(app)
    first = start_amendment(app)  # opened on 12 April: its reminders fall due on 10 May, 09:00
    open_consultation(app, first)
    app.tick()  # the year's cycle, due since the deal began, out of the way
    deal_time = AppTime(datetime(2021, 5, 10, 8, 59, 57, tzinfo=AMSTERDAM))
    env = dict(os.environ, CITYDEAL_DATABASE_URL=app_url, CITYDEAL_SECRET_KEY='two-webs',
               CITYDEAL_SMTP_HOST='127.0.0.1', CITYDEAL_SMTP_PORT=str(smtp.port))
    ports = free_ports(2)
    commands = [['serve', '--port', str(port)] for port in ports] + [['scheduler', '--lease-seconds', '3']] * 2
    logs = [open(tmp_path / f'{command[0]}-{i}.log', 'w') for i, command in enumerate(commands)]
    processes = [subprocess.Popen([sys.executable, '-m', 'citydeal.cli', *command], cwd=tmp_path,
                                  env=dict(env, CITYDEAL_NOW=deal_time.now().isoformat()),
                                  stdout=log, stderr=subprocess.STDOUT)
                 for command, log in zip(commands, logs, strict=True)]
    next_id = max(p['id'] for p in app.procedures()) + 1
    parties = [p['code'] for p in app.parties() if p['code'] != 'bzk']
    tokens = {code: app.create_token(f'{code}@deal.example', 'worker')[1] for code in parties}
    groups = [dict(list(tokens.items())[i::4]) for i in range(4)]

    def reminders_delivered():
        """The outbox key of every reminder the SMTP server received (its Message-ID names the row)."""
        with app.engine.connect() as connection:
            keys = dict(connection.execute(select(OutboxMessage.id, OutboxMessage.dedupe_key)
                                           .where(OutboxMessage.event == 'reminder')).all())
        return [keys[int(re.match(r'<outbox-(\d+)\.', message['Message-ID']).group(1))]
                for _, message in list(smtp.received) if message['Subject'].startswith('Herinnering: uw instemming')]

    def firsts_reminders():
        return [key for key in reminders_delivered() if key.startswith(f'reminder:{first}:')]
    workers = []
    try:
        for port in ports:
            wait_until(lambda port=port: accepts_connections(port), f'web process on {port}')
        workers = [subprocess.Popen([sys.executable, str(Path(__file__).parent.parent / 'api_worker.py'),
                                     f'http://127.0.0.1:{ports[i % 2]}', json.dumps(group), str(PROCESS_ROUNDS),
                                     str(next_id)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i, group in enumerate(groups)]
        for round_ in range(PROCESS_ROUNDS):
            if round_ >= OPEN_AT_ONCE:  # the round opened OPEN_AT_ONCE before this one is done
                wait_until(lambda pid=next_id + round_ - OPEN_AT_ONCE: completed(app, pid), f'round {round_}')
            pid = start_amendment(app)
            assert pid == next_id + round_
            open_consultation(app, pid)
        wait_until(lambda: completed(app, next_id + PROCESS_ROUNDS - 1), 'the last round')
        outputs = [w.communicate(timeout=60) for w in workers]
        wait_until(lambda: len(firsts_reminders()) >= len(parties), 'the reminders due at 09:00')
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            # Left open after a failure, they would warn in the next test on this worker and blur the report.
            worker.stdout.close()
            worker.stderr.close()
        stop(processes, logs)
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert sum(int(out) for out, _ in outputs) == PROCESS_ROUNDS * 16
    delivered = reminders_delivered()
    assert len(delivered) == len(set(delivered)), 'a reminder went out twice'
    assert len(firsts_reminders()) == len(parties)
    for log in logs[2:]:
        written = Path(log.name).read_text()
        assert 'Traceback' not in written, written[-3000:]
    check(app, PROCESS_ROUNDS, since=next_id)
