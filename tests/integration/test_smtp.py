"""The outbox delivered to a real SMTP server on loopback: right content, nothing lost, nothing twice."""
import re
from datetime import timedelta

import pytest

from icalendar import Calendar

from notifications.smtp import BATCH, SmtpSettings, deliver
from tests.conftest import open_consultation, start_amendment
from tests.smtp_server import SmtpServer, free_port


def settings(port):
    return SmtpSettings(host='127.0.0.1', port=port, tls='none', mail_from='secretariaat@energieke-wijken.example',
                        timeout=5)


def test_messages_arrive_with_recipient_subject_body_and_calendar(app, smtp):
    pid = start_amendment(app)
    open_consultation(app, pid)
    queued = len(app.outbox('queued'))
    assert deliver(app, settings(smtp.port)) == (queued, 0)
    assert len(smtp.received) == queued
    by_recipient = {tos[0]: message for tos, message in smtp.received
                    if message['Subject'].startswith('Uw instemming gevraagd')}
    zeist = by_recipient['zeist@energieke-wijken.example']
    assert zeist['Subject'] == 'Uw instemming gevraagd, uiterlijk 24 mei 2021: Werklijn 5: warmte'
    assert zeist['From'] == 'secretariaat@energieke-wijken.example'
    assert '> Voeg werklijn 5 toe.' in zeist.get_body(('plain',)).get_content()
    assert '<h1' in zeist.get_body(('html',)).get_content()
    [attachment] = [part for part in zeist.iter_attachments() if part.get_content_type() == 'text/calendar']
    event = Calendar.from_ical(attachment.get_content()).walk('VEVENT')[0]
    assert event.decoded('dtstart').isoformat() == '2021-05-24T23:59:59+02:00'
    statuses = {(m['event'], m['recipient']): m['status'] for m in app.outbox()}
    assert set(statuses.values()) == {'sent', 'withdrawn'}
    # the projectleider had already opened the consultation when the mail about that task went out
    assert statuses[('task_opened', 'projectleider')] == 'withdrawn'
    assert deliver(app, settings(smtp.port)) == (0, 0)


def test_a_sender_told_to_stop_finishes_its_batch_and_leaves_the_rest_queued(app, smtp):
    pid = start_amendment(app)
    open_consultation(app, pid)
    queued = len(app.outbox('queued'))
    assert queued > BATCH
    batches = iter([False, True])
    assert deliver(app, settings(smtp.port), stopping=lambda: next(batches)) == (BATCH, 0)
    assert len(smtp.received) == BATCH and len(app.outbox('queued')) == queued - BATCH
    assert deliver(app, settings(smtp.port)) == (queued - BATCH, 0)


def test_with_the_server_down_messages_wait_and_then_go_exactly_once(app, clock):
    port = free_port()
    start_amendment(app)  # 4 messages: projectleider and secretaris, the task, the requester's confirmation
    assert deliver(app, settings(port)) == (0, 4)
    waiting = app.outbox()
    assert {m['status'] for m in waiting} == {'queued'}
    assert all(m['attempts'] == 1 and 'cannot reach' in m['last_error'] for m in waiting)
    server = SmtpServer(port).start()
    try:
        assert deliver(app, settings(port)) == (0, 0)  # backing off: not yet due again
        clock.advance(seconds=31)
        assert deliver(app, settings(port)) == (4, 0)
        assert deliver(app, settings(port)) == (0, 0)
        clock.advance(hours=2)
        assert deliver(app, settings(port)) == (0, 0)
        assert len(server.received) == 4
        assert {m['status'] for m in app.outbox()} == {'sent'}
    finally:
        server.stop()


def test_a_refused_address_fails_visibly_and_a_busy_one_is_tried_again(app, smtp, clock):
    smtp.handler.refuse['secretaris@energieke-wijken.example'] = '550 5.1.1 no such mailbox'
    smtp.handler.refuse['projectleider@energieke-wijken.example'] = '451 4.3.0 try again later'
    start_amendment(app)
    assert deliver(app, settings(smtp.port)) == (1, 3)  # the requester's confirmation goes
    status = {(m['to'], m['subject'][:5]): (m['status'], m['last_error']) for m in app.outbox()}
    assert status[('secretaris@energieke-wijken.example', 'Verzo')][0] == 'failed'
    assert '550' in status[('secretaris@energieke-wijken.example', 'Verzo')][1]
    assert status[('projectleider@energieke-wijken.example', 'Verzo')][0] == 'queued'
    del smtp.handler.refuse['projectleider@energieke-wijken.example']
    clock.advance(minutes=1)
    assert deliver(app, settings(smtp.port)) == (2, 0)


def test_a_sender_that_died_holding_messages_does_not_lose_them(app, smtp, monkeypatch):
    start_amendment(app)
    claimed = app.claim_outbox(10, 'first')
    assert len(claimed) == 4 and app.claim_outbox(10, 'second') == []  # held by the first sender
    later = app.real_now() + timedelta(minutes=11)  # ... which died before recording anything
    monkeypatch.setattr(app, 'real_now', lambda: later)
    assert deliver(app, settings(smtp.port)) == (4, 0)
    app.record_delivery(claimed[0].id, 'first', 'a late error from the dead sender')
    assert app.outbox()[0]['status'] == 'sent'  # its claim was lost: its word no longer counts


def test_a_relay_refusal_is_retried_and_failed_messages_can_be_requeued(app, smtp, clock):
    smtp.handler.refuse['secretaris@energieke-wijken.example'] = '554 5.7.1 Relay access denied'
    smtp.handler.refuse['projectleider@energieke-wijken.example'] = '550 5.1.1 no such mailbox'
    start_amendment(app)
    deliver(app, settings(smtp.port))
    statuses = {(m['recipient'], m['event']): m['status'] for m in app.outbox()}
    assert statuses[('secretaris', 'request_registered')] == 'queued'
    assert statuses[('projectleider', 'request_registered')] == 'failed'
    smtp.handler.refuse.clear()
    assert app.requeue() == 2
    clock.advance(minutes=1)
    assert deliver(app, settings(smtp.port)) == (3, 0)


def test_a_reminder_not_yet_sent_is_withdrawn_when_the_party_answers(app, clock):
    from tests.conftest import answer, open_consultation
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.advance(days=28, hours=1)  # 10 May, 11:00: the first reminders are due; mail is down
    app.tick()
    assert 'tiwos' in [m['recipient'] for m in app.outbox('queued') if m['event'] == 'reminder']
    answer(app, 'tiwos')
    withdrawn = [m['event'] for m in app.outbox('withdrawn') if m['recipient'] == 'tiwos']
    assert 'reminder' in withdrawn


def test_smtp_settings_are_read_and_checked():
    from engine.errors import CommandRefused
    read = SmtpSettings.from_environment({'CITYDEAL_SMTP_HOST': 'mail.example', 'CITYDEAL_SMTP_PORT': '587',
                                          'CITYDEAL_SMTP_TLS': 'starttls', 'CITYDEAL_SMTP_USER': 'u',
                                          'CITYDEAL_SMTP_PASSWORD': 'p', 'CITYDEAL_MAIL_FROM': 'a@b.example'})
    assert (read.host, read.port, read.tls, read.user, read.mail_from) == ('mail.example', 587, 'starttls', 'u',
                                                                           'a@b.example')
    with pytest.raises(CommandRefused) as refused:
        SmtpSettings.from_environment({'CITYDEAL_SMTP_PORT': 'x', 'CITYDEAL_SMTP_TLS': 'ssl'})
    assert sorted(p.field for p in refused.value.problems) == ['CITYDEAL_SMTP_PORT', 'CITYDEAL_SMTP_TLS']


def test_every_mail_carries_the_audit_head_in_a_header_and_its_footer(app, smtp):
    pid = start_amendment(app)
    open_consultation(app, pid)
    heads = {m['id']: m['audit_head'] for m in app.outbox()}
    deliver(app, settings(smtp.port))
    assert smtp.received
    for _, message in smtp.received:
        outbox_id = int(message['Message-ID'].split('outbox-')[1].split('.')[0])
        assert message['X-Citydeal-Audit-Head'] == heads[outbox_id]
        assert f'Stand van het logboek bij verzending: {heads[outbox_id]}.' in message.get_body(('plain',)).get_content()
    # on one line in the message source, so that it can be copied whole
    for raw in smtp.raw:
        head = re.search(rb'X-Citydeal-Audit-Head:(.*?)\r?\n', raw).group(1).strip().decode()
        assert head in heads.values()


def test_a_consent_request_from_the_mail_server_leads_to_the_decision(app, smtp, make_site):
    from tests.web_support import browser as new_browser
    site = make_site()
    open_consultation(app, start_amendment(app))
    deliver(app, settings(smtp.port))
    [mail] = [m for tos, m in smtp.received if tos == ['tiwos@energieke-wijken.example']
              and m['Subject'].startswith('Uw instemming gevraagd')]
    [link] = re.findall(r'href="([^"]+/taken/[^"]+)"', mail.get_body(('html',)).get_content())
    assert link in mail.get_body(('plain',)).get_content()
    path = link.removeprefix('http://127.0.0.1:5000')
    browser = new_browser(site, 'tiwos')
    page = browser.get(path)
    assert page.status_code == 200 and 'Voeg werklijn 5 toe.' in page.get_data(as_text=True)
    done = browser.post(f'{path}/bevestigen', {'decision': 'consent', 'statement': 'Akkoord.'}, token_from=path)
    assert done.status_code == 302 and '/ontvangstbewijs/' in done.headers['Location']
    deliver(app, settings(smtp.port))
    [confirmation] = [m for tos, m in smtp.received if tos == ['tiwos@energieke-wijken.example']
                      and m['Subject'].startswith('Vastgelegd')]
    assert done.headers['Location'] in confirmation.get_body(('plain',)).get_content()
