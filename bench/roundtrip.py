"""Consent round trip through HTTP at N parties, and the raw SpiffWorkflow cycle beside it.

A representative opens the task, fills in the form, sees the confirmation page, and confirms:
only that last POST is timed, until its answer (a redirect to the receipt) arrives, by which
time the state, the answer, the audit entry and any outbox rows are committed. The last two
parties of each round never answer over HTTP: every sample records a consent in a round that stays
open, and so does the raw cycle, which answers for one of those two in the last sample's round.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bench import child_processes, deals, seeding
from bench.samples import summary
from bench.web_client import Browser
from engine.models import Answer, AuditEntry, OpenTask, Procedure

WARMUP = 5
SAMPLES = 40
RAW_REPEATS = 50


def _answer(browser, task_id, party):
    form = {'decision': 'consent', 'statement': f'{party} stemt in.'}
    token = browser.get(f'/taken/{task_id}').csrf_token()
    confirmation = browser.post(f'/taken/{task_id}', dict(form, csrf_token=token))
    confirmed = browser.post(f'/taken/{task_id}/bevestigen', dict(form, csrf_token=confirmation.csrf_token()))
    if confirmed.status != 302 or '/ontvangstbewijs/' not in confirmed.headers.get('Location', ''):
        raise RuntimeError(f'confirming task {task_id} for {party} answered {confirmed.status}: {confirmed.body[:500]}')
    return confirmed.elapsed_ms


def _prepare(scratch, parties, answers):
    url = seeding.database_url(scratch, f'roundtrip-{parties}')
    app = seeding.city_deal(url, deals.write_deal(scratch, parties))
    consulted = [p['code'] for p in app.parties() if p['code'] != seeding.REQUESTER]
    answering = consulted[:-2][:answers]
    procedures = [seeding.open_amendment(app) for _ in range(math.ceil(answers / len(answering)))]
    seeding.add_accounts(app, answering)
    task_of = {(t['procedure_id'], t['party']): t['id'] for t in app.tasks() if t['name'] == 'instemming_geven'}
    plan = [(task_of[(pid, party)], party) for pid in procedures for party in answering][:answers]
    return url, app, answering, plan


def _check_committed(app, plan):
    """Every confirmed answer is in the database, with its audit entry, before the figures count."""
    task_ids = [task_id for task_id, _ in plan]
    with app.unit_of_work() as uow:
        answers = uow.session.scalar(select(func.count()).select_from(Answer).where(Answer.task_id.in_(task_ids)))
        # The set-up's own completions are the projectleider's; every party's is a confirmed answer.
        audited = uow.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.event == 'task_completed', AuditEntry.acting_for != 'projectleider'))
    if answers != len(plan) or audited != len(plan):
        raise RuntimeError(f'{len(plan)} answers confirmed, {answers} stored, {audited} audited')


def _open_round(app, last_task_id):
    """The state of the round the last sample answered in, and a consent task still open in it."""
    with app.unit_of_work() as uow:
        procedure_id = uow.session.scalar(select(Answer.procedure_id).where(Answer.task_id == last_task_id))
        state = uow.session.get(Procedure, procedure_id).state
        task = uow.session.scalars(select(OpenTask).where(OpenTask.procedure_id == procedure_id,
                                                          OpenTask.name == 'instemming_geven')
                                   .order_by(OpenTask.party_code)).first()
        return state, task.id, task.party_code


def raw_cycle(scratch, parties, state, task_id, party):
    state_path = Path(scratch) / f'state-{parties}.json'
    state_path.write_text(state)
    finished = subprocess.run(
        [sys.executable, '-m', 'bench.raw_cycle', str(state_path), '--task', task_id, '--party', party,
         '--deal-now', seeding.DEAL_START.isoformat(), '--repeats', str(RAW_REPEATS), '--warmup', str(WARMUP)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if finished.returncode != 0:
        raise RuntimeError(f'the raw cycle failed:\n{finished.stderr[-3000:]}')
    return json.loads(finished.stdout)['samples_ms']


def measure(scratch, parties, progress):
    """Figures for one N; ``progress`` hears what is going on."""
    progress(f'consent round trip, {parties} parties: seeding')
    url, app, answering, plan = _prepare(scratch, parties, WARMUP + SAMPLES)
    try:
        with child_processes.web_app(scratch, url, seeding.DEAL_START) as web:
            browsers = {}
            for party in answering:
                browsers[party] = Browser(web.port)
                browsers[party].login(seeding.email_of(party), seeding.PASSWORD)
            progress(f'consent round trip, {parties} parties: {len(plan)} answers over HTTP ({WARMUP} warm-up)')
            timed = [_answer(browsers[party], task_id, party) for task_id, party in plan]
            peak_rss = web.peak_rss_mb()
        _check_committed(app, plan)
        state, task_id, party = _open_round(app, plan[-1][0])
    finally:
        app.close()
    progress(f'consent round trip, {parties} parties: raw SpiffWorkflow cycle, {RAW_REPEATS} repetitions')
    raw = raw_cycle(scratch, parties, state, task_id, party)
    http = summary(timed[WARMUP:])
    raw_figures = summary(raw)
    return {'median_ms': http['median_ms'], 'p95_ms': http['p95_ms'], 'samples': http['samples'],
            'raw_median_ms': raw_figures['median_ms'], 'raw_p95_ms': raw_figures['p95_ms'],
            'ratio': round(http['median_ms'] / raw_figures['median_ms'], 2)}, peak_rss, url
