"""Stopping the scheduler while a firing is under way: the stop waits for it and then returns."""
import threading
from datetime import datetime, timezone

from citydeal.bootstrap import CityDeal
from citydeal.scheduler import Scheduler
from engine.clock import SystemClock
from notifications.smtp import SmtpSettings


class FiringApp:
    """Leader at once, one item due now, and a tick that waits until the test lets it finish."""
    clock = SystemClock()

    def __init__(self):
        self.ticking, self.finish = threading.Event(), threading.Event()
        self.due = datetime.now(timezone.utc)

    def acquire_lease(self, holder, now, ttl):
        return True

    def release_lease(self, holder, now):
        pass

    def next_due(self, skip=frozenset()):
        return self.due

    def housekeeping(self):
        pass

    def tick(self, on_fired=None, skip=frozenset(), stopping=lambda: False):
        self.due = None
        self.ticking.set()
        assert self.finish.wait(30)

    def claim_outbox(self, limit, token):
        return []


def test_a_stop_during_a_firing_waits_for_it_and_returns():
    app = FiringApp()
    scheduler = Scheduler(app, SmtpSettings(host='127.0.0.1', port=9, tls='none', mail_from='x@localhost', timeout=1))
    scheduler.start()
    executor, shutting_down = scheduler._scheduler._lookup_executor('default'), threading.Event()
    shutdown = executor.shutdown

    def shutdown_noticed(wait=True):
        # Called by APScheduler's shutdown with its job-store lock held: the moment that matters.
        shutting_down.set()
        shutdown(wait)
    executor.shutdown = shutdown_noticed
    assert app.ticking.wait(10)
    stopping = threading.Thread(target=scheduler.stop, daemon=True)
    stopping.start()
    assert shutting_down.wait(10)
    app.finish.set()  # the firing goes on to re-arm and to ask for the queued mail to be sent
    stopping.join(timeout=10)
    assert not stopping.is_alive(), 'the stop waits forever for the firing it interrupted'


def test_the_stand_in_has_the_methods_of_the_composition_root():
    for name in ('acquire_lease', 'release_lease', 'next_due', 'tick', 'claim_outbox'):
        assert callable(getattr(CityDeal, name))
