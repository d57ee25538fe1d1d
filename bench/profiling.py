"""Where the time goes when a target is missed: the same request, in-process, under cProfile.

The web app runs in this process (Flask's test client) on the database the measurement left
behind, so the profile covers the server's whole path for the request: Flask, the login
session, the engine, SQLAlchemy and SQLite. Written to ``bench/profile-<name>.txt``.
"""
import cProfile
import io
import os
import pstats
import secrets
from pathlib import Path

from bench import seeding
from bench.web_client import TOKEN
from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from web.app import create_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OWN_CODE = ('engine/', 'web/', 'citydeal/', 'notifications/')


def _client(url):
    # A key of its own, so that the app does not write one into var/ of the working directory.
    os.environ.setdefault('CITYDEAL_SECRET_KEY', secrets.token_hex(32))
    app = CityDeal(url=url, clock=FakeClock(seeding.DEAL_START))
    return app, create_app(app).test_client


def _token(response):
    return TOKEN.search(response.get_data(as_text=True)).group(1)


def _login(new_client, party):
    client = new_client()
    token = _token(client.get('/inloggen'))
    answer = client.post('/inloggen', data={'email': seeding.email_of(party), 'password': seeding.PASSWORD,
                                            'csrf_token': token})
    if answer.status_code != 302:
        raise RuntimeError(f'login of {party} answered {answer.status_code}')
    return client


def _own_code_lines(stats, requests, limit=25):
    """The project's own functions by time spent in them and below, per request and as a share of it."""
    rows = []
    for (filename, line, function), (_, calls, _, cumulative, _) in stats.stats.items():
        relative = filename.removeprefix(str(ROOT) + '/')
        if relative.startswith(OWN_CODE):
            rows.append((cumulative, calls / requests, f'{relative}:{line}({function})'))
    rows.sort(reverse=True)
    return [f'{seconds / requests * 1000:9.2f} ms {seconds / stats.total_tt:6.1%} {calls:7.1f} calls  {where}'
            for seconds, calls, where in rows[:limit]]


def discard(name):
    """A profile from an earlier run whose target is now met would mislead: it goes."""
    (HERE / f'profile-{name}.txt').unlink(missing_ok=True)


def write(name, profile, requests, what):
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    total_ms = stats.total_tt / requests * 1000
    out.write(f'{what}\n{requests} requests profiled, {total_ms:.1f} ms each under the profiler '
              f'(cProfile slows Python code down, not SQLite or the disk).\n\n'
              'The project\'s own functions, time inside them and below: per request, share of the request, calls:\n')
    out.write('\n'.join(_own_code_lines(stats, requests)) + '\n\n')
    stats.sort_stats('cumulative').print_stats(40)
    stats.sort_stats('tottime').print_stats(25)
    path = HERE / f'profile-{name}.txt'
    path.write_text(out.getvalue().replace(str(ROOT) + '/', ''))
    return path


def roundtrip(url, parties):
    """The committing POST of a consent, for every party that has an account, in a new round."""
    app, new_client = _client(url)
    try:
        procedure_id = seeding.open_amendment(app)
        accounts = {a.party for a in app.users()}
        tasks = [t for t in app.tasks() if t['procedure_id'] == procedure_id and t['party'] in accounts]
        # The measurement made no account for the last party: the round stays open, as it did there.
        profile = cProfile.Profile()
        for task in tasks:
            client = _login(new_client, task['party'])
            form = {'decision': 'consent', 'statement': f"{task['party']} stemt in."}
            token = _token(client.get(f"/taken/{task['id']}"))
            token = _token(client.post(f"/taken/{task['id']}", data=dict(form, csrf_token=token)))
            profile.enable()
            answer = client.post(f"/taken/{task['id']}/bevestigen", data=dict(form, csrf_token=token))
            profile.disable()
            if answer.status_code != 302:
                raise RuntimeError(f"confirming {task['id']} answered {answer.status_code}")
    finally:
        app.close()
    return write(f'roundtrip-{parties}', profile, len(tasks),
                 f'POST /taken/<id>/bevestigen, a consent at {parties} parties')


def inbox(url, party, renders=10):
    app, new_client = _client(url)
    try:
        client = _login(new_client, party)
        client.get('/taken')
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(renders):
            client.get('/taken')
        profile.disable()
    finally:
        app.close()
    return write('inbox', profile, renders, 'GET /taken ("Mijn taken") with 1,000 open tasks')


def due_lookup(url, checks=20):
    from bench.due_lookup import check
    app = CityDeal(url=url, clock=FakeClock(seeding.DEAL_START))
    try:
        check(app)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(checks):
            check(app)
        profile.disable()
    finally:
        app.close()
    return write('due-lookup', profile, checks, 'one scheduler check (next_due, then due_now) with 10,000 open procedures')
