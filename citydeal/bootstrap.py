"""The one place that wires database, clock and engine; the CLI, web app, scheduler and tests call it."""
from datetime import datetime, timezone
from functools import partial

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from engine import accounts, audit, commands, deal_file, lease, outbox, queries, register, timers
from engine import procedures as registry
from engine.dates import local_date
from engine.queries import calendar_items
from engine.clock import SystemClock
from engine.errors import CommandRefused, Conflict
from engine.database import database_url, make_engine, make_session_factory, upgrade_schema
from engine.runner import Actor
from engine.unit_of_work import UnitOfWork
from notifications.render import Renderer, calendar_file

INSTALLER = Actor('citydeal init', 'admin')
#: how often a command that met another writer is run again before it reports a conflict
RETRIES = 5


class CityDeal:
    """Each method is one command in one transaction, or one read."""

    def __init__(self, url=None, clock=None):
        self.engine = make_engine(url or database_url())
        self.clock = clock or SystemClock.from_environment()
        renderer = Renderer()
        self.unit_of_work = partial(UnitOfWork, make_session_factory(self.engine), self.clock, renderer)
        self._reading = partial(UnitOfWork, make_session_factory(self.engine, read_only=True), self.clock, renderer,
                                writes=False)
        self._schema_checked = False

    @staticmethod
    def real_now():
        """The real time, for what concerns processes rather than the deal: claims and leases."""
        return datetime.now(timezone.utc)

    def close(self):
        self.engine.dispose()

    def _require_schema(self):
        if not self._schema_checked:
            if not inspect(self.engine).has_table('deals'):
                raise CommandRefused.one('deal.not_loaded', 'database')
            self._schema_checked = True

    def _command(self, operation, *args, **kwargs):
        """Run a command; when another writer got there first, run it again from the start.

        Safe because a command reads everything afresh and writes nothing outside its transaction:
        the second run sees the first writer's change (a task already answered is then refused).
        """
        self._require_schema()
        for attempt in range(1, RETRIES + 1):
            try:
                with self.unit_of_work() as uow:
                    result = operation(uow, *args, **kwargs)
                    uow.commit()
                    return result
            except (Conflict, IntegrityError) as error:
                if attempt == RETRIES:
                    raise Conflict(f'{RETRIES} attempts met another writer; nothing was saved') from error

    def _read(self, query, *args, **kwargs):
        self._require_schema()
        with self._reading() as uow:
            return query(uow.session, *args, **kwargs)

    # --- set-up
    def init(self, deal_path):
        """Create or upgrade the schema and load the deal; returns (deal slug, 'loaded', 'unchanged' or
        'contacts updated')."""
        definition = deal_file.load(deal_path)
        upgrade_schema(self.engine)
        with self.unit_of_work() as uow:
            deal, created = register.load_deal(uow.session, definition, uow.now, INSTALLER)
            uow.commit()
            return deal.slug, created

    # --- commands
    def start(self, type_id, caller, values):
        """Start a procedure of any registered type; ``caller`` says who asks (engine.rights decides)."""
        procedure = self._command(lambda uow: commands.start(uow.context(), type_id, caller, values))
        return {'id': procedure.id, 'status': procedure.status}

    def complete(self, task_id, caller, values):
        procedure, receipt = self._command(lambda uow: commands.complete(uow.context(), task_id, caller, values))
        return {'procedure_id': procedure.id, 'status': procedure.status, 'outcome': procedure.outcome,
                'receipt': receipt}

    def revise(self, task_id, caller, values):
        """Replace an answer to a consent request while its round is open (issue 11, point 4)."""
        procedure, receipt = self._command(lambda uow: commands.revise(uow.context(), task_id, caller, values))
        return {'procedure_id': procedure.id, 'status': procedure.status, 'outcome': procedure.outcome,
                'receipt': receipt}

    def new_version(self, procedure_id, caller, values):
        """A new version of a procedure's text, put to every Party again (issue 11, point 5)."""
        procedure = self._command(lambda uow: commands.new_version(uow.context(), procedure_id, caller, values))
        return {'id': procedure.id, 'status': procedure.status}

    def answer_for_task(self, task_id):
        """The recorded answer to a consent request (for the page that revises it), or None."""
        return self._read(queries.answer_for_task, task_id)

    def check_task_values(self, task_id, caller, values):
        return self._read_uow(lambda uow: commands.check(uow.context(), task_id, caller, values))

    @staticmethod
    def procedure_types():
        return registry.all_types()

    def tick(self, on_fired=None, skip=frozenset(), stopping=lambda: False):
        self._require_schema()
        return timers.tick(self.unit_of_work, on_fired, skip, stopping)

    def next_due(self, skip=frozenset()):
        return self._read_uow(lambda uow: timers.next_due(uow, skip))

    # --- accounts
    def add_user(self, email, password, party=None, role=None, name=None, actor=INSTALLER):
        return self._command_uow(lambda uow: accounts.add_user(uow.session, uow.now, actor, email, password,
                                                               party=party, role=role, name=name))

    def users(self):
        return self._read_uow(lambda uow: accounts.users(uow.session, local_date(uow.now)))

    def disable_user(self, email, actor=INSTALLER):
        self._command_uow(lambda uow: accounts.disable_user(uow.session, uow.now, actor, email))

    def end_sessions(self, user_id):
        self._command_uow(lambda uow: accounts.end_sessions(uow.session, user_id))

    def account(self, user_id):
        return self._read_uow(lambda uow: accounts.account(uow.session, user_id, local_date(uow.now)))

    def prepare_logins(self):
        accounts.prepare_login_timing()

    def login(self, email, password, remote_addr):
        """The account, or LoginRefused; every attempt is kept, refused ones too."""
        self._require_schema()
        with self.unit_of_work() as uow:
            try:
                result = accounts.authenticate(uow.session, uow.now, email, password, remote_addr)
            except accounts.LoginRefused:
                uow.commit()
                raise
            uow.commit()
            return result

    def create_token(self, email, name=None, actor=INSTALLER):
        return self._command_uow(lambda uow: accounts.create_token(uow.session, uow.now, email, name, actor))

    def tokens(self, email=None):
        return self._read(accounts.tokens, email)

    def revoke_token(self, token_id, actor=INSTALLER, owner_id=None):
        self._command_uow(lambda uow: accounts.revoke_token(uow.session, uow.now, token_id, actor, owner_id))

    def account_for_token(self, token):
        return self._read_uow(lambda uow: accounts.account_for_token(uow.session, token, local_date(uow.now)))

    def delegate(self, granting, deputy_email, starts_on, ends_on):
        self._command_uow(lambda uow: accounts.delegate(uow.session, uow.now, granting, deputy_email,
                                                        starts_on, ends_on))

    # --- for the web pages and the API
    def task(self, task_id):
        return self._read(queries.task, task_id)

    def task_for(self, task_id, caller):
        """An open task, if ``caller`` may see it (engine.rights); Forbidden or NotFound otherwise."""
        return self._read(queries.task_for, task_id, caller)

    def tasks_of(self, caller):
        return self._read(queries.tasks_of, caller)

    def receipt(self, seq):
        return self._read(queries.receipt, seq)

    def answered_task(self, task_id):
        return self._read(queries.answered_task, task_id)

    def diagram_state(self, procedure_id):
        return self._read_uow(lambda uow: queries.diagram_state(uow, procedure_id))

    def audit_search(self, **filters):
        return self._read(queries.audit_search, **filters)

    def today(self):
        return local_date(self.clock.now())

    # --- the scheduler's lease
    def acquire_lease(self, holder, now, ttl):
        return self._command_uow(lambda uow: lease.acquire(uow.session, holder, now, ttl))

    def release_lease(self, holder, now):
        self._command_uow(lambda uow: lease.release(uow.session, holder, now))

    # --- the outbox, for a sender
    def claim_outbox(self, limit, token):
        return self._command_uow(lambda uow: outbox.claim(uow.session, uow.now, self.real_now(), limit, token))

    def record_delivery(self, message_id, token, error=None, permanent=False, tried=True):
        self._command_uow(lambda uow: outbox.record(uow.session, uow.now, message_id, token, error, permanent, tried))

    def requeue(self, message_ids=None):
        return self._command_uow(lambda uow: outbox.requeue(uow.session, uow.now, message_ids))

    def outbox(self, status=None):
        return self._read(outbox.listing, status)

    def calendar(self, party=None):
        """Every upcoming deadline as an iCalendar file."""
        def export(uow):
            return calendar_file(register.definition(uow.deal()), calendar_items(uow, party), uow.now)
        return self._read_uow(export)

    def _read_uow(self, operation):
        self._require_schema()
        with self._reading() as uow:
            return operation(uow)

    def _command_uow(self, operation):
        self._require_schema()
        with self.unit_of_work() as uow:
            result = operation(uow)
            uow.commit()
            return result

    # --- reads
    def parties(self):
        return self._read(queries.parties)

    def procedures(self):
        return self._read(queries.procedures)

    def show(self, procedure_id):
        return self._read(queries.show, procedure_id)

    def tasks(self, party=None, role=None):
        return self._read(queries.tasks, party=party, role=role)

    def appendices(self, public=False):
        return self._read(queries.appendices, public)

    def audit(self, procedure_id=None):
        return self._read(queries.audit_entries, procedure_id)

    def verify_audit(self, anchor=None):
        return self._read(audit.verify, anchor)

    def deal(self):
        self._require_schema()
        with self._reading() as uow:
            deal = uow.deal()
            definition = register.definition(deal)
            return {'slug': deal.slug, 'name': deal.name, 'citeertitel': deal.citeertitel,
                    'start': str(deal.start_date), 'end': str(deal.end_date), 'status': deal.status,
                    'terms': definition.terms, 'phases': definition.phases,
                    'continuation_start': str(local_date(register.continuation_start_instant(deal)))}
