"""Timer lateness: 100 workflow timers due over a minute, fired by a real ``citydeal scheduler``
process on the real clock, with the mail it sends meanwhile going to a real (local) mail sink.

Each timer is a notice of withdrawal whose effective moment is the chosen instant
(``seeding.plant_timers``). Lateness is what the engine records: the audit entry ``timer_fired``
holds the due time, and its own time is the firing transaction's clock, both on the scheduler's
deal clock.
"""
import statistics
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from bench import child_processes, deals, seeding
from engine.models import AuditEntry

TIMERS = 100
#: the first timer falls due this long after the scheduler's clock starts; the last a minute later
FIRST_DUE = timedelta(seconds=5)
SPACING = timedelta(milliseconds=600)
#: how long to wait, after the last due time, for every firing to be recorded
SETTLE_SECONDS = 30
#: the deal time at which the scheduler starts (its clock then runs with the real one)
SCHEDULER_START = seeding.DEAL_START + timedelta(hours=1)


def firings(app):
    """(due, fired at) of every timer firing the engine recorded."""
    with app.unit_of_work() as uow:
        entries = uow.session.scalars(select(AuditEntry).where(AuditEntry.event == 'timer_fired')).all()
        return [(datetime.fromisoformat(e.data['due']), e.at_dt) for e in entries]


def measure(scratch, progress):
    url = seeding.database_url(scratch, 'timers')
    # Two parties more than notices: a deal with fewer than two Parties left ends, and its last timers with it.
    app = seeding.city_deal(url, deals.write_deal(scratch, TIMERS + 2))
    try:
        # The yearly cycle due since the deal began fires now, so that the minute holds only the timers.
        app.clock.set(SCHEDULER_START - timedelta(minutes=1))
        app.tick()
        dues = [SCHEDULER_START + FIRST_DUE + SPACING * k for k in range(TIMERS)]
        progress(f'timer lateness: planting {TIMERS} timers')
        seeding.plant_timers(app, dues)
        with child_processes.mail_sink(scratch) as sink:
            progress(f'timer lateness: a real scheduler fires them over {(dues[-1] - dues[0]).total_seconds():.0f} s')
            with child_processes.scheduler(scratch, url, SCHEDULER_START, sink.port) as scheduler:
                # The scheduler's clock started at SCHEDULER_START when it did: wait that long, and some.
                time.sleep((dues[-1] - SCHEDULER_START).total_seconds())
                deadline = time.monotonic() + SETTLE_SECONDS
                while len(fired := firings(app)) < TIMERS and time.monotonic() < deadline:
                    scheduler.require_alive()
                    time.sleep(0.5)
                if len(fired) != TIMERS:
                    raise RuntimeError(f'{len(fired)} of {TIMERS} timers fired:\n{scheduler.log()[-3000:]}')
                peak_rss = scheduler.peak_rss_mb()
    finally:
        app.close()
    late_ms = [(at - due).total_seconds() * 1000 for due, at in fired]
    return {'median_ms': round(statistics.median(late_ms), 1), 'max_ms': round(max(late_ms), 1),
            'timers': TIMERS}, peak_rss
