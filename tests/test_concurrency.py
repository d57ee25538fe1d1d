"""All parties consenting at the same moment, round after round: every round adopted, every answer
recorded once, the audit chain intact. In threads through the engine, and in separate processes
through the API."""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from engine.models import Answer, Procedure
from tests.conftest import open_consultation, start_amendment
from tests.web_support import add_accounts, fast_hashing
from web.app import create_app

ROUNDS = 100


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


@pytest.mark.cli
def test_every_party_at_once_in_separate_processes_through_the_api_for_100_rounds(app, monkeypatch):
    fast_hashing(monkeypatch)
    add_accounts(app)
    monkeypatch.setenv('CITYDEAL_SECRET_KEY', 'concurrency')
    http = make_server('127.0.0.1', 0, create_app(app), threaded=True)
    server = threading.Thread(target=http.serve_forever, daemon=True)
    server.start()
    base = f'http://127.0.0.1:{http.server_port}'
    parties = [p['code'] for p in app.parties() if p['code'] != 'bzk']
    tokens = {code: app.create_token(f'{code}@deal.example', 'worker')[1] for code in parties}
    groups = [dict(list(tokens.items())[i::4]) for i in range(4)]
    workers = [subprocess.Popen([sys.executable, str(Path(__file__).parent / 'api_worker.py'), base,
                                 json.dumps(group), str(ROUNDS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for group in groups]
    try:
        for round_ in range(1, ROUNDS + 1):
            pid = start_amendment(app)
            assert pid == round_
            open_consultation(app, pid)
            deadline = time.monotonic() + 60
            while True:
                with app.unit_of_work() as uow:
                    if uow.session.get(Procedure, pid).status == 'completed':
                        break
                assert time.monotonic() < deadline, f'round {round_} did not complete'
                time.sleep(0.02)
        outputs = [w.communicate(timeout=60) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        http.shutdown()
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert sum(int(out) for out, _ in outputs) == ROUNDS * 16
    check(app, ROUNDS)
