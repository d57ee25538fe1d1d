"""The real scheduler process on the real clock: on time, once, across kills, restarts and a second
scheduler. Timers are planted at chosen instants through the engine itself; the scheduler fires them
through the same `tick` a user would run."""
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone


import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from citydeal.bootstrap import CityDeal
from engine import lease, register, runner
from engine import procedures as registry
from engine.clock import FakeClock
from engine.dates import AMSTERDAM, local_date
from engine.models import AuditEntry, OutboxMessage
from engine.runner import Actor
from tests.conftest import DEAL_FILE, ROOT, AppTime, open_consultation, start_amendment, wait_until

pytestmark = [pytest.mark.cli, pytest.mark.slow]
ARTIFACTS = ROOT / 'test-artifacts'
LEASE = 2


@pytest.fixture
def world(databases, tmp_path, smtp):
    """A deal with 30 parties (the 17 and 13 more), loaded at a chosen deal time."""
    deal_file = tmp_path / 'deal.toml'
    extra = ''.join(f'\n[[parties]]\ncode = "extra{i:02d}"\nemail = "extra{i:02d}@example.org"\nname = "Gemeente '
                    f'Extra {i}"\nkind = "gemeente"\nrepresentatives = ["Wethouder {i}"]\n' for i in range(13))
    deal_file.write_text(DEAL_FILE.read_text() + extra)

    class World:
        url = databases.new()
        kind = databases.kind
        processes = []
        logs = []

        def app(self, at):
            instance = CityDeal(url=self.url, clock=FakeClock(at))
            instance.init(deal_file)
            return instance

        def spawn(self, app_time, name, lease=LEASE):
            log = open(tmp_path / f'{name}.log', 'w')
            self.logs.append(log)
            env = dict(os.environ, CITYDEAL_DATABASE_URL=self.url, CITYDEAL_NOW=app_time.now().isoformat(),
                       CITYDEAL_SMTP_PORT=str(smtp.port), CITYDEAL_SMTP_HOST='127.0.0.1')
            process = subprocess.Popen([sys.executable, '-m', 'citydeal.cli', 'scheduler', '--lease-seconds', str(lease)],
                                       stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
            process.log_path = tmp_path / f'{name}.log'
            self.processes.append(process)
            return process

        def stop(self, process, sig=signal.SIGTERM):
            process.send_signal(sig)
            process.wait(timeout=20)

    world = World()
    yield world
    for process in world.processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    for log in world.logs:
        log.close()


def plant_timers(app, dues):
    """Notices of withdrawal whose effective moment is each due time: one real workflow timer each."""
    with app.unit_of_work() as uow:
        codes = [p.code for p in register.parties(uow.session)]
        ids = []
        for code, due in zip(codes, dues, strict=False):
            request = {'circumstances': 'meting', 'received': str(local_date(uow.now)),
                       'effective_date': str(local_date(due))}
            procedure = runner.launch(uow.context(Actor('test', code)), registry.get('opzegging'), request,
                                      {'party': code, 'effective_at': due.isoformat()}, initiated_by=code,
                                      deadline=due)
            ids.append(procedure.id)
        uow.commit()
    return ids


def firings(app):
    """(procedure, due, fired at) of every timer firing, in the order the audit recorded them."""
    # A plain read: polled while the scheduler writes, and on PostgreSQL a write would queue behind it.
    with Session(app.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.event == 'timer_fired')
                                      .order_by(AuditEntry.seq)).all()
        return [(e.procedure_id, datetime.fromisoformat(e.data['due']), e.at_dt) for e in entries]


def lease_holder(app):
    """The process id of the scheduler holding an unexpired lease, or None."""
    with Session(app.engine) as session:
        held = lease.holder(session)
    if held is None or held[1] < datetime.now(timezone.utc):
        return None
    return int(held[0].rsplit(':', 2)[1])  # the holder is host:pid:random


def lateness_ms(fired):
    return [(at - due).total_seconds() * 1000 for _, due, at in fired]


def test_timers_another_process_adds_fire_within_a_second_of_their_due_time(world):
    start = datetime(2021, 6, 1, 12, 0, tzinfo=AMSTERDAM)
    app_time = AppTime(start)
    app = world.app(start)
    scheduler = world.spawn(app_time, 'scheduler')
    wait_until(lambda: 'took the lease' in scheduler.log_path.read_text(), 'the lease')
    # Planted by this process while the scheduler runs: it must notice them by itself.
    dues = [app_time.now() + timedelta(seconds=3, milliseconds=250 * k) for k in range(24)]
    ids = plant_timers(app, dues)
    # The scheduler's clock started when it had imported everything, a little behind app_time: wait
    # for the firings themselves, not for a moment on this process's clock.
    wait_until(lambda: len(firings(app)) >= len(ids), 'the timers', seconds=30)
    time.sleep(1)  # time enough to fire anything twice
    world.stop(scheduler)
    fired = firings(app)
    assert sorted(p for p, _, _ in fired) == ids, scheduler.log_path.read_text()
    late = lateness_ms(fired)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f'timer-lateness-{world.kind}.json').write_text(json.dumps(
        {'timers': len(late), 'median_ms': statistics.median(late), 'max_ms': max(late), 'all_ms': late}, indent=1))
    assert min(late) >= 0 and max(late) < 1000, late
    app.close()


def test_a_killed_scheduler_catches_up_once_in_due_order(world):
    start = datetime(2021, 6, 1, 12, 0, tzinfo=AMSTERDAM)
    app = world.app(start)
    dues = [start + timedelta(seconds=4, milliseconds=300 * k) for k in range(6)]
    ids = plant_timers(app, dues)
    app_time = AppTime(start)  # after the set-up, which must not eat into the first scheduler's 4 s
    first = world.spawn(app_time, 'first')
    time.sleep(1.5)
    world.stop(first, signal.SIGKILL)
    app_time.sleep_until(dues[-1] + timedelta(seconds=1))
    assert firings(app) == []
    second = world.spawn(app_time, 'second')
    wait_until(lambda: len(firings(app)) >= len(ids), 'catching up', seconds=20)
    time.sleep(1)  # time enough to fire anything twice
    world.stop(second)
    fired = firings(app)
    assert [p for p, _, _ in fired] == ids, second.log_path.read_text()  # each once, in due order
    assert 'took the lease' in second.log_path.read_text()
    app.close()


def test_two_schedulers_send_each_reminder_once(world, smtp):
    opened = datetime(2021, 4, 12, 10, 0, tzinfo=AMSTERDAM)
    app = world.app(opened)
    pid = start_amendment(app)
    open_consultation(app, pid)
    app.tick()  # the year's cycle, due since the deal began, is out of the way
    app_time = AppTime(datetime(2021, 5, 10, 8, 59, 56, tzinfo=AMSTERDAM))
    both = [world.spawn(app_time, 'a', lease=15), world.spawn(app_time, 'b', lease=15)]
    asked = 29  # the 30 parties but the requester

    def delivered():
        return [tos[0] for tos, message in list(smtp.received)
                if message['Subject'].startswith('Herinnering: uw instemming')]
    wait_until(lambda: len(delivered()) >= asked, 'the reminders', seconds=30)
    time.sleep(1)  # time enough to send anything twice
    # Counted while both run: a leader that stops hands the lease back, and the other rightly takes it.
    leaders = [p.log_path.name for p in both if 'took the lease' in p.log_path.read_text()]
    for process in both:
        world.stop(process)
    with app.unit_of_work() as uow:
        keys = uow.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.event == 'reminder')).all()
        sent = uow.session.scalars(select(OutboxMessage.status).where(OutboxMessage.event == 'reminder')).all()
    assert len(keys) == asked and len(set(keys)) == asked
    assert set(sent) == {'sent'}
    assert len(delivered()) == asked and len(set(delivered())) == asked
    assert len(leaders) == 1, leaders
    app.close()


def test_the_standby_takes_over_when_the_leader_dies(world):
    start = datetime(2021, 6, 1, 12, 0, tzinfo=AMSTERDAM)
    app = world.app(start)
    dues = [start + timedelta(seconds=8, milliseconds=200 * k) for k in range(4)]
    ids = plant_timers(app, dues)
    app_time = AppTime(start)
    a, b = world.spawn(app_time, 'a'), world.spawn(app_time, 'b')
    # The lease row says who leads: with a 2 s lease a busy leader may lose it for a moment, and a
    # standby's log may then say it took the lease before the kill.
    wait_until(lambda: lease_holder(app) in (a.pid, b.pid), 'a leader', seconds=15)
    leader, standby = (a, b) if lease_holder(app) == a.pid else (b, a)
    world.stop(leader, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: lease_holder(app) == standby.pid, 'the takeover', seconds=30)
    takeover = time.monotonic() - killed
    wait_until(lambda: len(firings(app)) >= len(ids), 'the timers', seconds=30)
    time.sleep(1)  # time enough to fire anything twice
    world.stop(standby)
    assert takeover < 30
    assert [p for p, _, _ in firings(app)] == ids
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f'takeover-{world.kind}.json').write_text(json.dumps({'lease_seconds': LEASE, 'takeover_s': takeover}))
    app.close()


def test_the_default_lease_lets_a_standby_take_over_within_30_seconds():
    from citydeal.scheduler import Scheduler
    default = Scheduler.__init__.__kwdefaults__
    assert default['lease_seconds'] + default['poll_seconds'] < 30
