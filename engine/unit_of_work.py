"""One command, one transaction: everything a command writes commits together or not at all."""
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engine import audit, dates, register, rules
from engine.errors import CommandRefused, Conflict
from engine.models import Deal
from engine.runner import Actor, Context

#: who acts until a command has decided it (engine.rights); never recorded as such
NOBODY = Actor('', '')


class UnitOfWork:
    def __init__(self, session_factory, clock, renderer, writes=True):
        self._session_factory = session_factory
        self.clock = clock
        self._renderer = renderer
        self._writes = writes

    def __enter__(self):
        self.session = self._session_factory()
        # Messages are rendered where they are queued, inside this transaction (engine.notices).
        self.session.info['renderer'] = self._renderer
        if self._writes and self.session.get_bind().dialect.name == 'postgresql':
            # Every write ends in the one audit chain: take its lock first, before any row lock, so
            # that two writers queue here instead of deadlocking on each other's rows.
            audit.lock_chain(self.session)
        self.now = self.clock.now()
        return self

    def __exit__(self, exc_type, exc, tb):
        # Whatever was not committed is thrown away (closing rolls back), in-memory workflows
        # included: they live only inside the command. Loaded rows stay readable, detached.
        self.session.close()
        if exc_type is not None and issubclass(exc_type, StaleDataError):
            raise Conflict('another command changed this procedure first; nothing was saved') from exc

    def commit(self):
        self.session.commit()

    def deal(self):
        deal = self.session.scalars(select(Deal)).first()
        if deal is None:
            raise CommandRefused.one('deal.not_loaded', 'deal')
        # A refusal from here on cites the clause as this deal names it.
        definition = register.definition(deal)
        rules.cite_from(definition.clauses)
        dates.use_zone(definition.timezone)
        return deal

    def context(self, actor=NOBODY, deal=None):
        """The one context of this command: everything an effect may need. ``deal``: the deal row when
        the command read it already, with what it acts on."""
        return Context(self.session, deal if deal is not None else self.deal(), self.now, self.clock, actor,
                       self._renderer)
