"""Due-timer lookup: one scheduler check against 10,000 open procedures, with none due and with 100.

A check is what the scheduler process asks the database: ``next_due`` (every second, to arm its
job) and ``due_now`` (when the job fires, to know what to fire), each in its own transaction.
The same at 1,000 open procedures shows whether the cost grows with their number.
"""
import time
from datetime import timedelta

from sqlalchemy import event

from bench import deals, seeding
from bench.samples import summary
from engine import timers

OPEN = 10_000
SMALLER = 1_000
DUE = 100
WARMUP = 5
REPEATS = 50
#: the first timer falls due a day after the clock of the check, before anything else the deal has due;
#: its copies a minute apart after it
FIRST_TIMER = timedelta(days=1)
STEP_SECONDS = 60


def check(app):
    app.next_due()
    with app.unit_of_work() as uow:
        return timers.due_now(uow)


def _time_checks(app):
    samples = []
    for _ in range(WARMUP + REPEATS):
        started = time.perf_counter()
        check(app)
        samples.append((time.perf_counter() - started) * 1000)
    return summary(samples[WARMUP:])['median_ms']


def _query_plans(app):
    """How SQLite answers the check's questions about timers (the statements the engine sends, caught
    on their way): from an index on next_timer_dt, or by scanning every running procedure."""
    statements = []

    def catch(connection, cursor, statement, parameters, context, executemany):
        if 'next_timer_dt' in statement.partition('WHERE')[2]:
            statements.append((statement, parameters))

    event.listen(app.engine, 'before_cursor_execute', catch)
    try:
        check(app)
    finally:
        event.remove(app.engine, 'before_cursor_execute', catch)
    with app.engine.connect() as connection:
        return ['; '.join(row[-1] for row in connection.exec_driver_sql('EXPLAIN QUERY PLAN ' + statement, parameters))
                for statement, parameters in statements]


def _url(scratch, open_procedures):
    return seeding.database_url(scratch, f'due-lookup-{open_procedures}')


def _world(scratch, open_procedures):
    """``open_procedures`` notices of withdrawal waiting for their timer, none due yet."""
    url = _url(scratch, open_procedures)
    app = seeding.city_deal(url, deals.write_deal(scratch, deals.REAL_PARTIES))
    app.tick()  # the yearly cycle due since the deal began, out of the way
    seeding.plant_timers(app, [seeding.DEAL_START + FIRST_TIMER])
    [template] = [p['id'] for p in app.procedures() if p['type'] == 'opzegging']
    seeding.clone_procedure(app, template, open_procedures - 1, STEP_SECONDS)
    return app


def _make_due(app, count):
    """The ``count`` earliest timers fall due a minute before the clock."""
    app.clock.set(app.next_due() + timedelta(minutes=count - 1, seconds=30))


def measure(scratch, progress):
    figures = {'open': OPEN}
    for open_procedures in (SMALLER, OPEN):
        progress(f'due lookup: {open_procedures} open procedures')
        app = _world(scratch, open_procedures)
        try:
            if len(check(app)) != 0:
                raise RuntimeError('the check found timers due before any was made due')
            none_due = _time_checks(app)
            _make_due(app, DUE)
            due = len(check(app))
            if due != DUE:
                raise RuntimeError(f'{due} items due instead of {DUE}')
            with_due = _time_checks(app)
            if open_procedures == OPEN:
                figures.update(median_ms=none_due, median_ms_100_due=with_due, query_plans=_query_plans(app))
            else:
                figures.update(median_ms_at_1000_open=none_due, median_ms_100_due_at_1000_open=with_due)
        finally:
            app.close()
    return figures, _url(scratch, OPEN)
