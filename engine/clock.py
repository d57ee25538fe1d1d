"""Where the engine learns the time: always timezone-aware UTC."""
import os
from datetime import datetime, timedelta, timezone

from engine.errors import CommandRefused


class SystemClock:
    """The real clock, optionally shifted so that demos can stand inside the deal's term."""

    def __init__(self, offset=timedelta(0)):
        self.offset = offset

    def now(self):
        return datetime.now(timezone.utc) + self.offset

    def real(self, moment):
        """The real instant at which this clock shows ``moment``: when to wake for it."""
        return moment - self.offset

    @classmethod
    def from_environment(cls, environ=os.environ):
        """``CITYDEAL_NOW`` sets the clock at process start; it runs on from there."""
        raw = environ.get('CITYDEAL_NOW')
        if not raw:
            return cls()
        try:
            start = datetime.fromisoformat(raw)
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise CommandRefused.one('setting.not_an_instant', 'CITYDEAL_NOW', value=raw)
        return cls(start - datetime.now(timezone.utc))


class FakeClock:
    """A clock that tests move by hand; it never moves by itself."""

    def __init__(self, start):
        if start.tzinfo is None:
            raise ValueError('FakeClock needs a timezone-aware start')
        self._now = start.astimezone(timezone.utc)

    def now(self):
        return self._now

    def set(self, moment):
        self._now = moment.astimezone(timezone.utc)

    def advance(self, **delta):
        self._now += timedelta(**delta)
