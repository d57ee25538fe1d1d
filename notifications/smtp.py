"""Delivering the outbox over SMTP, configured by CITYDEAL_SMTP_* variables."""
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from engine.errors import CommandRefused, Problem

TLS_MODES = ('none', 'starttls', 'tls')
#: small, so that a slow server cannot keep a batch past its claim (outbox.HOLD)
BATCH = 10


@dataclass(frozen=True)
class SmtpSettings:
    host: str = '127.0.0.1'
    port: int = 25
    tls: str = 'none'
    user: str | None = None
    password: str | None = None
    mail_from: str = 'citydeal@localhost'
    timeout: float = 20.0

    @classmethod
    def from_environment(cls, environ=os.environ):
        raw_port = environ.get('CITYDEAL_SMTP_PORT', '25')
        tls = environ.get('CITYDEAL_SMTP_TLS', 'none')
        problems = []
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            problems.append(Problem('setting.not_a_port', 'CITYDEAL_SMTP_PORT', {'value': raw_port}))
        if tls not in TLS_MODES:
            problems.append(Problem('field.not_a_choice', 'CITYDEAL_SMTP_TLS', {'choices': TLS_MODES}))
        if problems:
            raise CommandRefused(problems)
        return cls(host=environ.get('CITYDEAL_SMTP_HOST', '127.0.0.1'), port=int(raw_port), tls=tls,
                   user=environ.get('CITYDEAL_SMTP_USER') or None, password=environ.get('CITYDEAL_SMTP_PASSWORD'),
                   mail_from=environ.get('CITYDEAL_MAIL_FROM', 'citydeal@localhost'))


#: Lines up to 120 characters before folding (RFC 5322 allows 998): the audit-head header (about 95) then
#: stays on one line, so that a person copying it from the message source gets the anchor whole.
UNFOLDED_ANCHOR = policy.SMTP.clone(max_line_length=120)


def build(message, mail_from, domain):
    email = EmailMessage(policy=UNFOLDED_ANCHOR)
    email['From'] = mail_from
    email['To'] = message.to_address
    email['Subject'] = message.subject
    email['Date'] = format_datetime(message.created_dt)
    # Stable per outbox row: should a message ever go out twice, receivers can tell.
    email['Message-ID'] = f'<outbox-{message.id}.{int(message.created_dt.timestamp())}@{domain}>'
    if message.audit_head:
        # The chain's head when the message was queued: an anchor the receiver keeps (its footer says so too).
        email['X-Citydeal-Audit-Head'] = message.audit_head
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype='html')
    if message.ics:
        email.add_attachment(message.ics.encode('utf-8'), maintype='text', subtype='calendar',
                             filename='termijn.ics', params={'method': 'PUBLISH'})
    return email


def _connect(settings):
    if settings.tls == 'tls':
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == 'starttls':
            client.starttls(context=ssl.create_default_context())
    if settings.user:
        client.login(settings.user, settings.password or '')
    return client


def _permanent(error):
    """Only a refusal of the address itself (5.1.x: no such mailbox, bad domain, bad syntax) is final.

    Anything else, a relay refusal included (5.7.1: our own settings), is worth another try.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 and _enhanced(text).startswith('5.1.') for code, text in error.recipients.values())
    return False


def _enhanced(text):
    words = (text.decode('utf-8', 'replace') if isinstance(text, bytes) else str(text)).split()
    return words[0] if words else ''


def deliver(app, settings, stopping=lambda: False):
    """Send what is due, a few at a time under a claim of our own; returns (sent, not sent).

    Between batches it asks `stopping`: a process told to stop finishes the batch in hand and
    leaves the rest queued, rather than making its stop wait for a long outbox."""
    sent = unsent = 0
    domain = settings.mail_from.rpartition('@')[2] or 'localhost'
    token = uuid.uuid4().hex
    while not stopping():
        batch = app.claim_outbox(BATCH, token)
        if not batch:
            return sent, unsent
        try:
            client = _connect(settings)
        except (OSError, smtplib.SMTPException, UnicodeError) as error:
            for message in batch:
                app.record_delivery(message.id, token, f'cannot reach {settings.host}:{settings.port}: {error}')
            return sent, unsent + len(batch)
        try:
            for index, message in enumerate(batch):
                try:
                    client.send_message(build(message, settings.mail_from, domain))
                except (OSError, smtplib.SMTPException, UnicodeError) as error:
                    app.record_delivery(message.id, token, f'{type(error).__name__}: {error}',
                                        permanent=_permanent(error))
                    unsent += 1
                    # SMTPException is an OSError too: only a socket error or a disconnect ends the batch.
                    if isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(error, smtplib.SMTPException):
                        # The connection is gone: the rest were not tried and wait, uncharged, for the next round.
                        for rest in batch[index + 1:]:
                            app.record_delivery(rest.id, token, tried=False)
                        return sent, unsent + len(batch) - index - 1
                else:
                    app.record_delivery(message.id, token)
                    sent += 1
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
    return sent, unsent
