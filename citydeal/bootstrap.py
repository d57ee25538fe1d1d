"""The one place that wires database, clock and engine; the CLI, web app, scheduler and tests call it."""
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from engine import (accession_requests, accounts, appendix_pdf, audit, calendar_feeds, commands, deal_file,
                    documents, ending, housekeeping, lease, outbox, queries, register, seal, timers, totp)
from engine import procedures as registry
from engine.dates import local_date, use_zone
from engine.models import Deal
from engine.queries import calendar_items
from engine.clock import SystemClock
from engine.errors import CommandRefused, Conflict, Damaged, NotFound
from engine.database import database_url, file_missing, make_engine, make_session_factory, upgrade_schema
from engine.roles import ADMIN, OPERATOR_PERSON
from engine.runner import Actor
from engine.unit_of_work import UnitOfWork
from notifications.render import Renderer, calendar_file

INSTALLER = Actor('citydeal init', ADMIN.name)
#: who acts in the commands an operator types that name no party or role (documents add)
OPERATOR = Actor(OPERATOR_PERSON, ADMIN.name)
#: a reader with every right: the operator at the command line
ANYONE = object()
#: how often a command that met another writer is run again before it reports a conflict
RETRIES = 5
#: a subscribed calendar reminds its person this long before each deadline
CALENDAR_ALARM = timedelta(days=1)


class CityDeal:
    """Each method is one command in one transaction, or one read."""

    def __init__(self, url=None, clock=None, documents_dir=None, seal_settings=None):
        self.engine = make_engine(url or database_url())
        self.clock = clock or SystemClock.from_environment()
        self.documents = documents.Store(Path(documents_dir) if documents_dir else documents.documents_dir())
        self.seal = seal_settings or seal.SealSettings.from_environment()
        renderer = Renderer.from_environment()
        self.unit_of_work = partial(UnitOfWork, make_session_factory(self.engine), self.clock, renderer)
        self._reading = partial(UnitOfWork, make_session_factory(self.engine, read_only=True), self.clock, renderer,
                                writes=False)
        self._schema_checked = False
        #: the loaded deal's time zone, read once
        self._deal_zone = None

    @staticmethod
    def real_now():
        """The real time, for what concerns processes rather than the deal: claims and leases."""
        return datetime.now(timezone.utc)

    def close(self):
        self.engine.dispose()

    def _require_schema(self):
        if not self._schema_checked:
            # asking an SQLite file that is not there would leave an empty one behind
            if file_missing(self.engine) or not inspect(self.engine).has_table('deals'):
                raise CommandRefused.one('deal.not_loaded', 'database')
            self._schema_checked = True
        if self._deal_zone is None:
            with self._reading() as uow:
                found = uow.session.scalars(select(Deal)).first()
                if found is not None:
                    self._deal_zone = register.definition(found).timezone
        if self._deal_zone is not None:
            # A read that never loads the deal row still shows its times in the deal's zone (a command that
            # loads it sets the zone again, from the row).
            use_zone(self._deal_zone)

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
        self._deal_zone = None  # read again from the deal loaded now
        upgrade_schema(self.engine)
        with self.unit_of_work() as uow:
            deal, created = register.load_deal(uow.session, definition, uow.now, INSTALLER)
            uow.commit()
            return deal.slug, created

    def ensure_seal(self):
        """The installation's seal: the configured one checked, or a self-signed stand-in made once."""
        return seal.ensure(self.seal, self.deal()['citeertitel'])

    # --- commands
    def start(self, type_id, caller, values, files=(), document_ids=()):
        """Start a procedure of any registered type; ``caller`` says who asks (engine.rights decides).
        ``files`` ((name, bytes)) and ``document_ids`` (uploaded, unattached) go with the request."""
        attachments = documents.Attachments(self.documents, tuple(files), tuple(document_ids))
        procedure = self._command(lambda uow: commands.start(uow.context(), type_id, caller, values, attachments))
        return {'id': procedure.id, 'status': procedure.status}

    def complete(self, task_id, caller, values, files=(), document_ids=()):
        attachments = documents.Attachments(self.documents, tuple(files), tuple(document_ids))
        procedure, receipt = self._command(lambda uow: commands.complete(uow, task_id, caller, values, attachments))
        return {'procedure_id': procedure.id, 'status': procedure.status, 'outcome': procedure.outcome,
                'receipt': receipt}

    def revise(self, task_id, caller, values, files=(), document_ids=()):
        """Replace an answer to a consent request while its round is open (issue 11, point 4)."""
        attachments = documents.Attachments(self.documents, tuple(files), tuple(document_ids))
        procedure, receipt = self._command(lambda uow: commands.revise(uow.context(), task_id, caller, values,
                                                                       attachments))
        return {'procedure_id': procedure.id, 'status': procedure.status, 'outcome': procedure.outcome,
                'receipt': receipt}

    def new_version(self, procedure_id, caller, values):
        """A new version of a procedure's text, put to every Party again (issue 11, point 5)."""
        procedure = self._command(lambda uow: commands.new_version(uow.context(), procedure_id, caller, values))
        return {'id': procedure.id, 'status': procedure.status}

    def check_new_version(self, procedure_id, caller, values):
        """The values of a new version as ``new_version`` would read them, or its refusal; nothing is written
        (the web's confirmation step)."""
        return self._read_uow(lambda uow: commands.check_new_version(uow.context(), procedure_id, caller, values))

    def may_put_new_version(self, procedure_id, caller):
        """Whether ``caller`` may put a new version of the procedure's text now (engine.rights, the round open):
        the procedure page offers it then."""
        try:
            self._read_uow(lambda uow: commands.check_new_version(uow.context(), procedure_id, caller))
        except CommandRefused:
            return False
        return True

    def answer_for_task(self, task_id):
        """The recorded answer to a consent request (for the page that revises it), or None."""
        return self._read(queries.answer_for_task, task_id)

    def check_task_values(self, task_id, caller, values):
        return self._read_uow(lambda uow: commands.check(uow, task_id, caller, values))

    @staticmethod
    def procedure_types():
        return registry.all_types()

    def tick(self, on_fired=None, skip=frozenset(), stopping=lambda: False):
        self._require_schema()
        self.housekeeping()
        return timers.tick(self.unit_of_work, on_fired, skip, stopping)

    def housekeeping(self):
        """Delegations past their period audited as expired, unconfirmed requests to join deleted; a read
        first, so that a scheduler asking every second writes only when there is something to do."""
        if self._read_uow(lambda uow: housekeeping.due(uow.session, uow.now)):
            return self._command(housekeeping.run)
        return (0, 0)

    # --- the public request to join, confirmed by mail
    def request_accession(self, values, link_for):
        """Keeps the request and queues the confirmation mail; returns when its link expires."""
        return self._command(accession_requests.submit, values, link_for)

    def pending_accession(self, token):
        return self._read_uow(lambda uow: dict(accession_requests.pending(uow.session, uow.now, token).request))

    def confirm_accession(self, token):
        procedure = self._command(accession_requests.confirm, token)
        return {'id': procedure.id, 'status': procedure.status}

    def next_due(self, skip=frozenset()):
        return self._read_uow(lambda uow: timers.next_due(uow, skip))

    # --- accounts
    def add_user(self, email, password, party=None, role=None, name=None, actor=OPERATOR):
        return self._command_uow(lambda uow: accounts.add_user(uow.session, uow.now, actor, email, password,
                                                               party=party, role=role, name=name))

    def users(self):
        return self._read_uow(lambda uow: accounts.users(uow.session, local_date(uow.now)))

    def disable_user(self, email, actor=OPERATOR):
        self._command_uow(lambda uow: accounts.disable_user(uow.session, uow.now, actor, email))

    def end_sessions(self, user_id):
        self._command_uow(lambda uow: accounts.end_sessions(uow.session, user_id))

    def account(self, user_id):
        return self._read_uow(lambda uow: accounts.account(uow.session, user_id, local_date(uow.now)))

    def prepare_logins(self):
        accounts.prepare_login_timing()

    def login(self, email, password, remote_addr, link_base=None):
        """The account, or LoginRefused; every attempt is kept, refused ones too. ``link_base``: where the
        one-time sign-in link that a locked account's owner gets by mail starts (the token follows)."""
        return self._login_step(accounts.authenticate, email, password, remote_addr, link_base)

    def second_factor(self, user_id, code, remote_addr, link_base=None):
        return self._login_step(accounts.second_factor, user_id, code, remote_addr, link_base)

    def _login_step(self, step, *args):
        self._require_schema()
        with self.unit_of_work() as uow:
            try:
                result = step(uow.session, uow.now, *args)
            except accounts.LoginRefused:
                uow.commit()  # the failure counts
                raise
            uow.commit()
            return result

    def sign_in_with_link(self, token, remote_addr):
        return self._command_uow(lambda uow: accounts.sign_in_with_link(uow.session, uow.now, token, remote_addr))

    def account_for_verified_email(self, email, remote_addr):
        return self._command_uow(lambda uow: accounts.account_for_verified_email(uow.session, uow.now, email,
                                                                                 remote_addr))

    def request_password_reset(self, email, link_base):
        self._command_uow(lambda uow: accounts.request_password_reset(uow.session, uow.now, email, link_base))

    def password_reset_account(self, token):
        return self._read_uow(lambda uow: accounts.password_reset_account(uow.session, uow.now, token))

    def reset_password(self, token, password):
        self._command_uow(lambda uow: accounts.reset_password(uow.session, uow.now, token, password))

    def enable_totp(self, user_id, secret, code):
        return self._command_uow(lambda uow: totp.enable(uow.session, uow.now, user_id, secret, code))

    def disable_totp(self, user_id, code):
        self._command_uow(lambda uow: totp.disable(uow.session, uow.now, user_id, code))

    def renew_recovery_codes(self, user_id, code):
        return self._command_uow(lambda uow: totp.renew_recovery_codes(uow.session, uow.now, user_id, code))

    def account_overview(self, user_id):
        return self._read_uow(lambda uow: accounts.overview(uow.session, user_id, local_date(uow.now)))

    def create_token(self, email, name=None, actor=OPERATOR):
        return self._command_uow(lambda uow: accounts.create_token(uow.session, uow.now, email, name, actor))

    def tokens(self, email=None):
        return self._read(accounts.tokens, email)

    def revoke_token(self, token_id, actor=OPERATOR, owner_id=None):
        self._command_uow(lambda uow: accounts.revoke_token(uow.session, uow.now, token_id, actor, owner_id))

    # --- a person's calendar to subscribe to
    def calendar_feed_since(self, user_id):
        """When the person's calendar address was made, or None."""
        return self._read(calendar_feeds.current, user_id)

    def create_calendar_feed(self, user_id, actor):
        """A new private calendar address for the person (the old one stops working); the secret, shown once."""
        return self._command_uow(lambda uow: calendar_feeds.create(uow.session, uow.now, actor, user_id))

    def revoke_calendar_feed(self, user_id, actor):
        self._command_uow(lambda uow: calendar_feeds.revoke(uow.session, uow.now, actor, user_id))

    def calendar_of(self, secret, base_url):
        """The iCalendar file of the person whose address holds ``secret``; None for no such open account."""
        def export(uow):
            account = calendar_feeds.account_for(uow.session, secret, local_date(uow.now))
            if account is None:
                return None
            deal = register.definition(uow.deal())
            return calendar_file(deal, calendar_feeds.items(uow, account), uow.now, base_url=base_url,
                                 alarm=CALENDAR_ALARM, name=f'{deal.citeertitel}: {account.name}')
        return self._read_uow(export)

    def account_for_token(self, token):
        return self._read_uow(lambda uow: accounts.account_for_token(uow.session, token, local_date(uow.now)))

    def delegate(self, granting, deputy_email, starts_on, ends_on):
        return self._command_uow(lambda uow: accounts.delegate(uow.session, uow.now, granting, deputy_email,
                                                               starts_on, ends_on))

    def delegations(self, party=None):
        return self._read_uow(lambda uow: accounts.delegations(uow.session, local_date(uow.now), party))

    def revoke_delegation(self, delegation_id, actor=OPERATOR, party=None):
        self._command_uow(lambda uow: accounts.revoke_delegation(uow.session, uow.now, delegation_id, actor, party))

    # --- for the web pages and the API
    def task(self, task_id):
        return self._read(queries.task, task_id)

    def task_for(self, task_id, caller):
        """An open task, if ``caller`` may see it (engine.rights); Forbidden or NotFound otherwise."""
        return self._read(queries.task_for, task_id, caller)

    def task_with_procedure(self, task_id, caller):
        """(task_for, procedure_view of its procedure) in one read."""
        return self._read(queries.task_with_procedure, task_id, caller)

    def tasks_of(self, caller):
        return self._read(queries.tasks_of, caller)

    def receipt(self, seq):
        return self._read(queries.receipt, seq)

    def task_view(self, task_id):
        return self._read(queries.task_view, task_id)

    def procedure_view(self, procedure_id):
        return self._read(queries.procedure_view, procedure_id)

    def answered_task(self, task_id):
        return self._read(queries.answered_task, task_id)

    def diagram_state(self, procedure_id):
        return self._read_uow(lambda uow: queries.diagram_state(uow, procedure_id))

    def audit_search(self, **filters):
        return self._read(queries.audit_search, **filters)

    def audit_page(self, offset=0, limit=50, **filters):
        return self._read(queries.audit_page, offset=offset, limit=limit, **filters)

    def procedure_page(self, offset=0, limit=50, order='deadline', **filters):
        return self._read(queries.procedure_page, self.clock.now(), offset=offset, limit=limit, order=order, **filters)

    def task_page(self, parties=(), role=None, offset=0, limit=50, **filters):
        return self._read(queries.task_page, self.clock.now(), parties=parties, role=role, offset=offset, limit=limit,
                          **filters)

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
        return self._read(queries.parties, local_date(self.clock.now()))

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

    def audit_head(self):
        seq, hash_ = self._read(audit.head)
        return {'seq': seq, 'hash': hash_}

    # --- documents
    def add_document(self, name, content, actor=OPERATOR, procedure_id=None, purpose=''):
        """Check, store and record one file; refused before anything is written."""
        return self._command_uow(lambda uow: documents.as_dict(documents.add(
            uow.session, uow.now, actor, self.documents, name, content, procedure_id, purpose)))

    def document(self, document_id, viewer=ANYONE):
        """(its description, its bytes); NotFound also when ``viewer`` (an account, or None for the
        public) may not have it, so that an id reveals nothing."""
        def read(session):
            found = documents.get(session, document_id)
            if viewer is not ANYONE and not documents.may_read(session, found, viewer):
                raise NotFound.one('document.not_found', 'document', id=document_id)
            return documents.as_dict(found)
        described = self._read(read)
        try:
            content = self.documents.read(described['sha256'])
        except FileNotFoundError:
            raise Damaged.one('document.file_missing', 'document', id=document_id) from None
        if documents.sha256(content) != described['sha256']:
            # never served as the record: what is on disk is not what was recorded
            raise Damaged.one('document.file_changed', 'document', id=document_id)
        return described, content

    def verify_documents(self):
        return self._read(documents.verify_all, self.documents)

    # --- bijlagen as sealed PDFs
    def appendix_confidential(self, number):
        return self._read(appendix_pdf.is_confidential, number)

    def appendix_pdf(self, number):
        return self._read(appendix_pdf.render_appendix, number, self.seal)

    def deal_pdf(self, public=False):
        return self._read(appendix_pdf.render_deal, self.seal, public)

    def verify_appendix_pdf(self, pdf):
        return self._read(appendix_pdf.verify, pdf, self.seal)

    def deal_names(self):
        """The loaded deal's name, citeertitel and terms, for every page's head; None before a deal is loaded."""
        try:
            self._require_schema()
            with self._reading() as uow:
                deal = uow.deal()
                definition = register.definition(deal)
                return {'name': deal.name, 'citeertitel': deal.citeertitel, 'terms': definition.terms,
                        'clause': definition.clause}
        except CommandRefused:
            return None

    def deal(self):
        """The deal as it stands today: `citydeal deal` and the deal's pages."""
        self._require_schema()
        with self._reading() as uow:
            deal = uow.deal()
            definition = register.definition(deal)
            today = local_date(uow.now)
            status = ending.status(deal, today)
            return {'slug': deal.slug, 'name': deal.name, 'citeertitel': deal.citeertitel,
                    'start': str(deal.start_date), 'end': str(deal.end_date),
                    'last_day_in_force': str(deal.end_date - timedelta(days=1)),
                    'status': status,
                    'ended_on': deal.ended_on and str(deal.ended_on), 'ended_reason': deal.ended_reason,
                    # an ended deal is in no phase and has no Parties any more
                    'phase': [] if status == 'ended' else [p.number for p in definition.phases
                                                           if p.start <= today <= p.end],
                    'parties': 0 if status == 'ended' else len(register.consulted_parties(uow.session, today)),
                    'terms': definition.terms, 'phases': definition.phases, 'party_kinds': definition.party_kinds,
                    'continuation_start': str(local_date(register.continuation_start_instant(deal)))}
