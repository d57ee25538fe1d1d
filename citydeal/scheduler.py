"""``citydeal scheduler``: fires what falls due on time and drains the outbox, as one of possibly
several processes of which only the lease holder acts.

APScheduler keeps one job armed at the exact next due moment the database names; a poll every
second renews the lease, notices changes other processes made and re-arms. Firing is the same
engine command as ``citydeal tick``.
"""
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine.dates import shown
from engine.timers import TickFailed
from notifications import smtp

log = logging.getLogger('citydeal.scheduler')
RETRY_AFTER_FAILURE = timedelta(seconds=30)


def real_now():
    return datetime.now(timezone.utc)


class Scheduler:
    def __init__(self, app, smtp_settings, *, lease_seconds=15.0, poll_seconds=1.0, send_seconds=2.0, holder=None):
        self.app = app
        self.smtp_settings = smtp_settings
        self.lease_ttl = timedelta(seconds=lease_seconds)
        # The random part keeps two containers that share a host name and a pid apart.
        self.holder = holder or f'{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}'
        self.is_leader = False
        self._armed = None
        self._firing = False
        #: (what, ref) -> when to try a failed item again
        self._failing = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # A late job must run, however late (APScheduler drops jobs more than 1 s late by default).
        self._scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={
            'misfire_grace_time': None, 'coalesce': True, 'max_instances': 1})
        self._poll_seconds, self._send_seconds = poll_seconds, send_seconds

    def start(self):
        self._scheduler.add_job(self._poll, IntervalTrigger(seconds=self._poll_seconds), id='poll',
                                next_run_time=real_now())
        self._scheduler.add_job(self._send, IntervalTrigger(seconds=self._send_seconds), id='send',
                                next_run_time=real_now())
        self._scheduler.start()

    def stop(self):
        # APScheduler's shutdown holds its job-store lock while it waits for running jobs; a job that
        # then asked it for a job would wait for that lock forever. Under our lock no job is asking,
        # and once the flag is set none will.
        with self._lock:
            self._stopping.set()
        self._scheduler.shutdown(wait=True)
        if self.is_leader:
            self.app.release_lease(self.holder, real_now())
            self.is_leader = False

    def _poll(self):
        leader = self.app.acquire_lease(self.holder, real_now(), self.lease_ttl)
        if leader != self.is_leader:
            log.info('%s the lease', 'took' if leader else 'lost')
            self.is_leader = leader
        if not leader:
            self._disarm()
        elif not self._firing:
            self._arm(self.app.next_due(self._skip()))
            self.app.housekeeping()  # delegations expired, unconfirmed requests to join purged

    def _skip(self):
        """Items that failed recently: passed over until their retry, so that they hold up nothing."""
        now = real_now()
        self._failing = {key: retry for key, retry in self._failing.items() if retry > now}
        return frozenset(self._failing)

    def _arm(self, due):
        with self._lock:
            if self._stopping.is_set():
                return
            if due == self._armed and self._scheduler.get_job('fire'):
                return
            self._disarm_locked()
            self._armed = due
            if due is None:
                return
            run_at = max(self.app.clock.real(due), real_now())
            self._scheduler.add_job(self._fire, DateTrigger(run_date=run_at, timezone=timezone.utc), id='fire',
                                    replace_existing=True)
            log.debug('armed for %s', shown(due))

    def _disarm(self):
        with self._lock:
            if not self._stopping.is_set():
                self._disarm_locked()

    def _disarm_locked(self):
        if self._scheduler.get_job('fire'):
            self._scheduler.remove_job('fire')
        self._armed = None

    def _fire(self):
        with self._lock:
            self._armed = None
        if not self.is_leader:
            return
        self._firing = True
        try:
            self.app.tick(lambda item: log.info('fired: %s', item), self._skip(), stopping=self._stopping.is_set)
        except TickFailed as failed:
            retry = real_now() + RETRY_AFTER_FAILURE
            for (when, what, ref), error in failed.failures:
                self._failing[(what, ref)] = retry
                log.error('%s %s due %s failed; next try at %s', what, ref, shown(when), retry.isoformat(),
                          exc_info=error)
        finally:
            self._firing = False
        # Re-arm for what comes next at once, and send what the firing queued.
        self._arm(self.app.next_due(self._skip()))
        with self._lock:
            if not self._stopping.is_set():
                self._scheduler.modify_job('send', next_run_time=real_now())

    def _send(self):
        if not self.is_leader:
            return
        sent, unsent = smtp.deliver(self.app, self.smtp_settings, stopping=self._stopping.is_set)
        if sent or unsent:
            log.info('outbox: %d sent, %d waiting for another try', sent, unsent)


def run_forever(app, smtp_settings, wait_for_stop, **options):
    """Run until ``wait_for_stop()`` returns (a signal, in the CLI)."""
    scheduler = Scheduler(app, smtp_settings, **options)
    scheduler.start()
    log.info('scheduler %s started; lease %ss; mail via %s:%s', scheduler.holder,
             scheduler.lease_ttl.total_seconds(), smtp_settings.host, smtp_settings.port)
    try:
        wait_for_stop()
    finally:
        scheduler.stop()
        log.info('scheduler %s stopped', scheduler.holder)
