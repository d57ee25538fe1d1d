"""The database tables. Instants are stored as UTC; calendar days as dates."""
from datetime import timezone

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError('naive datetime refused: the engine stores aware instants only')
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Deal(Base):
    __tablename__ = 'deals'
    id: Mapped[int] = mapped_column(primary_key=True)
    #: short name from the deal file, e.g. ``energieke-wijken``
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    citeertitel: Mapped[str] = mapped_column(String(300), nullable=False)
    start_date: Mapped[object] = mapped_column(Date, nullable=False)
    #: the term's end; an adopted amendment of the end date changes it
    end_date: Mapped[object] = mapped_column(Date, nullable=False)
    #: ``active`` or ``ended``
    status: Mapped[str] = mapped_column(String(20), nullable=False, default='active')
    ended_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: the first day the deal is no longer in force (the term's end, or the day a withdrawal ended it)
    ended_on: Mapped[object] = mapped_column(Date, nullable=True)
    #: why it ended: the term ran out, the deal no longer stands, fewer than two Parties remain
    ended_reason: Mapped[str] = mapped_column(Text, nullable=True)
    #: the deal file as loaded, so that the engine never needs the file again
    definition_json: Mapped[str] = mapped_column(Text, nullable=False)

    def __repr__(self):
        return f'<Deal {self.slug} {self.start_date}..{self.end_date} {self.status}>'


class Party(Base):
    __tablename__ = 'parties'
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey('deals.id'), nullable=False)
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    #: rijk, gemeente, woningcorporatie or kennisinstelling
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: where its messages go; NULL for an admitted applicant that gave none
    email: Mapped[str] = mapped_column(String(254), nullable=True)
    #: the people who signed for the party, as signed
    representatives: Mapped[list] = mapped_column(JSON, nullable=False)
    #: euros a year where the deal names an amount; NULL for a contribution in kind
    annual_contribution_eur: Mapped[int] = mapped_column(Integer, nullable=True)
    contribution_text: Mapped[str] = mapped_column(Text, nullable=False, default='')
    #: active, withdrawing (notice given) or withdrawn
    status: Mapped[str] = mapped_column(String(20), nullable=False, default='active')
    joined_on: Mapped[object] = mapped_column(Date, nullable=False)
    #: the day a notice takes effect, set when the notice is received
    withdrawal_effective_on: Mapped[object] = mapped_column(Date, nullable=True)
    left_on: Mapped[object] = mapped_column(Date, nullable=True)
    __table_args__ = (UniqueConstraint('deal_id', 'code'),)

    def __repr__(self):
        return f'<Party {self.code} {self.status}>'


class Procedure(Base):
    __tablename__ = 'procedures'
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey('deals.id'), nullable=False)
    #: the BPMN process id: wijziging, toetreding, opzegging, jaarcyclus, voortzetting
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    #: running, completed or cancelled
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(40), nullable=True)
    #: what the procedure is about, e.g. ``year:2022`` for a jaarcyclus
    subject_key: Mapped[str] = mapped_column(String(80), nullable=True)
    #: the party that started it; NULL for a role, an applicant or the scheduler
    initiated_by: Mapped[str] = mapped_column(String(80), nullable=True)
    #: what was submitted: title, text, motivation, circumstances, applicant...
    request: Mapped[dict] = mapped_column(JSON, nullable=False)
    started_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    ended_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: the consultation deadline or the notice's effective moment
    deadline_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: when the workflow's earliest waiting timer falls due; the scheduler's query
    next_timer_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True, index=True)
    #: SpiffWorkflow's serialized workflow, spec included
    state: Mapped[str] = mapped_column(Text, nullable=False)
    #: the serializer's format version of ``state``
    state_format: Mapped[str] = mapped_column(String(20), nullable=False)
    #: optimistic lock: a save that finds another version fails instead of overwriting
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {'version_id_col': version}

    def __repr__(self):
        return f'<Procedure {self.id} {self.type} {self.status}>'


class OpenTask(Base):
    __tablename__ = 'open_tasks'
    #: the SpiffWorkflow task id
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False, index=True)
    #: the BPMN element id, e.g. ``instemming_geven``
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    label: Mapped[str] = mapped_column(String(300), nullable=False)
    party_code: Mapped[str] = mapped_column(String(80), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(40), nullable=True, index=True)
    due_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True, index=True)
    opened_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self):
        return f'<OpenTask {self.id} {self.name} {self.party_code or self.role}>'


class Answer(Base):
    __tablename__ = 'answers'
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False, index=True)
    task_id: Mapped[str] = mapped_column(String(36), nullable=True)
    party_code: Mapped[str] = mapped_column(String(80), nullable=False)
    #: consent or objection
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    statement: Mapped[str] = mapped_column(Text, nullable=False, default='')
    #: the person who acted for the party
    person: Mapped[str] = mapped_column(String(300), nullable=False)
    answered_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    #: the SHA-256 (hex) of the text answered, UTF-8 after trimming; None before issue 11
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=True)
    #: a party answers a consultation once
    __table_args__ = (UniqueConstraint('procedure_id', 'party_code'),)


class Appendix(Base):
    __tablename__ = 'appendices'
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey('deals.id'), nullable=False)
    #: bijlage number, 1, 2, ... in order of adoption
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    #: every consent statement: party, representative, date, text
    statements: Mapped[list] = mapped_column(JSON, nullable=False)
    adopted_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    __table_args__ = (UniqueConstraint('deal_id', 'number'),)


class ConfidentialityClaim(Base):
    """Gegevenswisseling lid 1: a Party asked that texts of a procedure (or one party's statement in it)
    be kept confidential. ``requested`` and ``kept`` protect them from the public; ``lifted`` no more."""
    __tablename__ = 'confidentiality_claims'
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the procedure whose texts are asked to be kept confidential
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False, index=True)
    #: the party whose statement is meant; NULL for the request and every statement of the procedure
    statement_of: Mapped[str] = mapped_column(String(80), nullable=True)
    #: the party that asked
    requested_by: Mapped[str] = mapped_column(String(80), nullable=False)
    grounds: Mapped[str] = mapped_column(Text, nullable=False)
    #: the geheimhouding procedure that handles the request
    handled_by: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False)
    #: requested, kept or lifted
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    requested_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    decided_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=True)


class ContributionOwed(Base):
    """Opzegging lid 3: the contribution for the year of notice stays due."""
    __tablename__ = 'contributions_owed'
    id: Mapped[int] = mapped_column(primary_key=True)
    party_code: Mapped[str] = mapped_column(String(80), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    #: NULL where the party contributes in kind
    amount_eur: Mapped[int] = mapped_column(Integer, nullable=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False)
    recorded_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)


class AuditEntry(Base):
    """Append-only; each entry hashes its content and the hash of the one before."""
    __tablename__ = 'audit_entries'
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    person: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the party code or role the person acted for
    acting_for: Mapped[str] = mapped_column(String(80), nullable=False)
    procedure_id: Mapped[int] = mapped_column(Integer, nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(80), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: a hash can be followed only once, so two writers cannot fork the chain
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class OutboxMessage(Base):
    """One message to one recipient, written in the same transaction as the change it reports."""
    __tablename__ = 'outbox'
    id: Mapped[int] = mapped_column(primary_key=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    procedure_id: Mapped[int] = mapped_column(Integer, nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(80), nullable=False)
    #: the party code or role it is for
    recipient: Mapped[str] = mapped_column(String(80), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    #: an iCalendar file with every deadline the message mentions; NULL when it mentions none
    ics: Mapped[str] = mapped_column(Text, nullable=True)
    #: a reminder or escalation is sent once per recipient and occasion, whoever fires it
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=True, unique=True)
    #: queued, sent, failed (the address itself was refused) or withdrawn (its occasion passed unsent)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default='queued')
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str] = mapped_column(Text, nullable=True)
    #: when the sender may try (again); indexed for the sender's query
    next_attempt_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False, index=True)
    #: a sender that claimed the message holds it until then (real time); after a crash another may take it
    claimed_until_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: which claim holds it: a sender records a result only for its own claim
    claimed_by: Mapped[str] = mapped_column(String(64), nullable=True)
    #: the task a reminder is about: when the task closes, a reminder not yet sent is withdrawn
    task_id: Mapped[str] = mapped_column(String(36), nullable=True, index=True)
    #: after this moment the message is no longer worth sending (a reminder after its deadline)
    expires_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    sent_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: the audit chain's head (SEQ:HASH) when the message was queued; NULL for messages queued before 0009
    audit_head: Mapped[str] = mapped_column(String(80), nullable=True)

    def __repr__(self):
        return f'<OutboxMessage {self.id} {self.event} to {self.recipient} {self.status}>'


class Reminder(Base):
    """A reminder planned when a task opened; gone when the task closes, fired once when due."""
    __tablename__ = 'reminders'
    # Its id names it to the scheduler: one that is fired and deleted must not come back as another.
    __table_args__ = {'sqlite_autoincrement': True}
    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=False)
    #: the open task it is about; the reminder is dropped when the task closes
    task_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    #: before_deadline (to a party) or overdue (to the projectleider or secretaris)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    recipient: Mapped[str] = mapped_column(String(80), nullable=False)
    due_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False, index=True)
    #: the deadline it reminds of, if any; none is sent after it
    deadline_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: also the outbox key, so that the message exists once whatever fires it
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)


class SchedulerLease(Base):
    """Which scheduler process may act; the others wait for the lease to expire."""
    __tablename__ = 'scheduler_lease'
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    expires_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)


Index('ix_procedures_type_subject', Procedure.type, Procedure.subject_key)
#: the scheduler's question every second, what falls due next and what is due now, read from an index
#: whatever the number of open procedures (with status alone indexed, SQLite scanned every running one)
Index('ix_procedures_status_next_timer', Procedure.status, Procedure.next_timer_dt)
#: one living procedure per subject (one jaarcyclus a year, one voortzetting per end date), whoever starts it
Index('uq_procedures_living_subject', Procedure.type, Procedure.subject_key, unique=True,
      sqlite_where=Procedure.status != 'cancelled', postgresql_where=Procedure.status != 'cancelled')


class User(Base):
    """A person who logs in: for one party, or in one role."""
    __tablename__ = 'users'
    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-case; the login name
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the party this person represents, or NULL for a role
    party_code: Mapped[str] = mapped_column(String(80), nullable=True)
    #: projectleider, secretaris, auditor or admin; NULL for a party's representative
    role: Mapped[str] = mapped_column(String(40), nullable=True)
    #: argon2id
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    #: raised at every logout: login sessions carry it, so a copied session cookie dies with the logout
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the TOTP secret (base32) once the person turned on a second factor; NULL without one
    totp_secret: Mapped[str] = mapped_column(String(64), nullable=True)
    #: the time step of the last TOTP code accepted: a code is taken once, never replayed
    totp_last_step: Mapped[int] = mapped_column(Integer, nullable=True)

    def __repr__(self):
        return f'<User {self.email} {self.party_code or self.role}>'


class RecoveryCode(Base):
    """A code that stands in for the authenticator app once; shown once, stored hashed."""
    __tablename__ = 'recovery_codes'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    #: SHA-256 of the code (random, 50 bits: no slow hash needed)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    used_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)


class OneTimeLink(Base):
    """A link sent by mail that signs in once: after too many failed logins, or to set a new password."""
    __tablename__ = 'one_time_links'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    #: sign_in or password_reset
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    #: SHA-256 of the link's token; the token itself is only in the mail
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    expires_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    used_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self):
        return f'<OneTimeLink {self.id} {self.purpose} user {self.user_id}>'


class Delegation(Base):
    """A representative lets a deputy act for the party for a period ("namens")."""
    __tablename__ = 'delegations'
    id: Mapped[int] = mapped_column(primary_key=True)
    party_code: Mapped[str] = mapped_column(String(80), nullable=False)
    deputy_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False)
    starts_on: Mapped[object] = mapped_column(Date, nullable=False)
    ends_on: Mapped[object] = mapped_column(Date, nullable=False)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    #: when it stopped counting: revoked, its party (or the deputy's) withdrew, or its last day passed
    ended_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    #: revoked, party_withdrawn or expired; NULL while it runs (or waits for its first day)
    end_reason: Mapped[str] = mapped_column(String(20), nullable=True)

    def __repr__(self):
        return f'<Delegation {self.id} {self.party_code} {self.starts_on}..{self.ends_on} {self.end_reason or ""}>'


class LoginAttempt(Base):
    """Failed and successful logins, to slow down guessing."""
    __tablename__ = 'login_attempts'
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    remote_addr: Mapped[str] = mapped_column(String(64), nullable=False)
    at_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    __table_args__ = (Index('ix_login_attempts_email_at', 'email', 'at_dt'),
                      Index('ix_login_attempts_addr_at', 'remote_addr', 'at_dt'))


class ApiToken(Base):
    """A personal token for the REST API: the same rights as its person in the web app."""
    __tablename__ = 'api_tokens'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: SHA-256 of the token; the token itself is shown once, at creation, and never stored
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    revoked_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)


class CalendarFeed(Base):
    """A person's private calendar address, ``/agenda/<secret>.ics``: the deadlines of their tasks and the
    deal's key dates, for a calendar program to subscribe to. Only the secret's SHA-256 is kept; a new
    address revokes the one before."""
    __tablename__ = 'calendar_feeds'
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'), nullable=False, index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    revoked_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=True)


class PendingAccession(Base):
    """A request to join from the public form, waiting for the applicant to confirm it by mail.

    Until confirmed it is no procedure: no task, no audit entry. Unconfirmed, it is purged at
    ``expires_dt``.
    """
    __tablename__ = 'pending_accessions'
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the confirmation token; the token itself is only in the mail
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    #: the form's values, as start_toetreding takes them
    request: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    expires_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False, index=True)

    def __repr__(self):
        return f'<PendingAccession {self.id} until {self.expires_dt}>'


class Document(Base):
    """A file in the record, stored once by its SHA-256 under CITYDEAL_DOCUMENTS_DIR (engine.documents)."""
    __tablename__ = 'documents'
    id: Mapped[int] = mapped_column(primary_key=True)
    #: hex SHA-256 of the bytes; also the file's name in the store
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    #: the file name as uploaded, without folders
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    #: recognised from the content, never from the name
    media_type: Mapped[str] = mapped_column(String(120), nullable=False)
    #: bytes
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_dt: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    #: the person who uploaded it
    uploaded_by: Mapped[str] = mapped_column(String(300), nullable=False)
    #: the party code or role that person acted for
    uploaded_for: Mapped[str] = mapped_column(String(80), nullable=False)
    #: the procedure it belongs to; NULL until it is attached
    procedure_id: Mapped[int] = mapped_column(ForeignKey('procedures.id'), nullable=True, index=True)
    #: what it is for there: request, statement, werkplan, begroting, ...
    purpose: Mapped[str] = mapped_column(String(80), nullable=False, default='')

    def __repr__(self):
        return f'<Document {self.id} {self.name} {self.sha256[:12]}>'
