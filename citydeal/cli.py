"""``citydeal``: the command line. Exit 0 on success, 2 when a command is refused, 1 when audit verify fails."""
import argparse
import json
import os
import signal
import sys
from pathlib import Path

from engine import procedures as registry
from engine.errors import CommandRefused, Conflict
from engine.procedures import PARTY, PUBLIC
from engine.procedures.fields import describe
from engine.rights import Caller
from engine.roles import NAMES as ROLE_NAMES, TASK_ROLES
from engine.timers import TickFailed
from notifications.smtp import SmtpSettings, deliver

DEFAULT_DEAL = Path(__file__).resolve().parent.parent / 'deals' / 'energieke-wijken.toml'


def _parser():
    parser = argparse.ArgumentParser(prog='citydeal', description='Governance procedures of a City Deal.')
    sub = parser.add_subparsers(dest='command', required=True)

    def command(name, help_, json_=True):
        p = sub.add_parser(name, help=help_)
        if json_:
            p.add_argument('--json', action='store_true', help='machine-readable output')
        return p

    p = command('init', 'create or upgrade the schema and load the deal; rerun changes nothing', json_=False)
    p.add_argument('--deal', default=str(DEFAULT_DEAL), help='deal file (TOML)')
    command('parties', 'list the parties')
    command('deal', 'the deal: name, term, status, why it ended, current phase, number of Parties')

    start = sub.add_parser('start', help='start a procedure').add_subparsers(dest='procedure_type', required=True)
    for type_ in registry.all_types():
        _start_parser(start.add_parser(type_.id, help=type_.help), type_)

    command('procedures', 'list procedures')
    p = command('show', 'one procedure: state, answers, open tasks, timeline')
    p.add_argument('id', type=int)
    p = command('tasks', 'open tasks')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--party')
    group.add_argument('--role', choices=TASK_ROLES)
    p = command('complete', 'complete an open task')
    p.add_argument('task')
    p.add_argument('--as', dest='acting_for', required=True, help='party code or role')
    p.add_argument('--decision', help="the task's decision: consent or objection on a consent request, keep or lift "
                                      'on geheimhouding_toetsen (the engine checks it against the task)')
    p.add_argument('--statement')
    p.add_argument('--revise', action='store_true',
                   help='replace your answer to a consent request while its round is open')
    p.add_argument('--set', action='append', default=[], metavar='NAME=VALUE', help='a form field')
    p.add_argument('--person', help='who acts (default: the first representative, or the role)')
    p.add_argument('--document', action='append', default=[], metavar='PATH', help='attach a file (repeatable)')
    p = command('appendices', 'the appendices (bijlagen); `appendices pdf N -o FILE`, `appendices verify FILE`')
    p.add_argument('action', nargs='?', choices=('pdf', 'verify'),
                   help='pdf: bijlage N as a sealed PDF; verify: check a sealed PDF against the register')
    p.add_argument('target', nargs='?', help='with pdf: the bijlage number N; with verify: the PDF file')
    p.add_argument('-o', '--output', metavar='FILE', help='with pdf: where the PDF is written')
    documents = sub.add_parser('documents', help='files in the record').add_subparsers(dest='action', required=True)
    p = documents.add_parser('add', help='check, store and record a file (PDF, odt, ods, docx, xlsx, UTF-8 text)')
    p.add_argument('path')
    p.add_argument('--procedure', type=int, help='the procedure it belongs to')
    p.add_argument('--purpose', default='', help='what it is there: request, statement, werkplan, ...')
    p.add_argument('--json', action='store_true')
    p = documents.add_parser('get', help='write a stored document to a file')
    p.add_argument('id', type=int)
    p.add_argument('-o', '--output', metavar='FILE', required=True)
    p = command('new-version', 'put a new version of a text to every Party (requester or projectleider)')
    p.add_argument('procedure', type=int)
    p.add_argument('--as', dest='acting_for', required=True, help='the requesting party, or projectleider')
    p.add_argument('--text', required=True)
    p.add_argument('--title')
    p.add_argument('--motivation')
    p.add_argument('--person', help='who acts (default: the first representative, or the role)')
    command('tick', 'fire every timer due as of now')
    command('send', 'deliver the outbox once over SMTP (CITYDEAL_SMTP_*)')
    p = command('outbox', 'the messages queued, sent, failed and withdrawn')
    p.add_argument('--status', choices=('queued', 'sent', 'failed', 'withdrawn'))
    p = command('requeue', 'put failed messages back in the queue (all, or the ids given)')
    p.add_argument('ids', nargs='*', type=int)
    p = command('calendar', 'every upcoming deadline as iCalendar (e.g. > deadlines.ics)', json_=False)
    p.add_argument('--party', help='only the deadlines that concern this party')
    p = command('scheduler', 'run the scheduler: fire deadlines on time, send mail', json_=False)
    p.add_argument('--lease-seconds', type=float, default=15.0, help='how long a silent scheduler keeps the lease')
    users = sub.add_parser('users', help='accounts for the web app').add_subparsers(dest='action', required=True)
    p = users.add_parser('add', help='add an account')
    p.add_argument('email')
    who = p.add_mutually_exclusive_group()
    who.add_argument('--party', help='the party this person represents (neither: a deputy\'s personal account)')
    who.add_argument('--role', choices=ROLE_NAMES)
    p.add_argument('--name', help='default: the party\'s first representative, or the role')
    p.add_argument('--password-stdin', action='store_true', required=True, help='read the password from stdin')
    p = users.add_parser('list', help='list the accounts')
    p.add_argument('--json', action='store_true')
    p = users.add_parser('disable', help='disable an account')
    p.add_argument('email')
    p = users.add_parser('demo', help='an account for every party and role (CODE@demo.example), for demos')
    p.add_argument('--password-stdin', action='store_true', required=True, help='one password for all of them')
    tokens = sub.add_parser('tokens', help='personal API tokens').add_subparsers(dest='action', required=True)
    p = tokens.add_parser('create', help='a new token for an account (shown once)')
    p.add_argument('email')
    p.add_argument('--name', default='api')
    p = tokens.add_parser('list', help='the tokens (never their secrets)')
    p.add_argument('--email')
    p.add_argument('--json', action='store_true')
    p = tokens.add_parser('revoke', help='revoke a token')
    p.add_argument('id', type=int)
    delegations = sub.add_parser('delegations', help='deputies acting for a party for a period').add_subparsers(
        dest='action', required=True)
    p = delegations.add_parser('list', help='every delegation: current, future and ended')
    p.add_argument('--json', action='store_true')
    p = delegations.add_parser('revoke', help='end a current or future delegation now')
    p.add_argument('id', type=int)
    p = command('serve', 'run the web app (development server; see README for gunicorn)', json_=False)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5000)
    p = command('mail-sink', 'a local SMTP server that keeps mail as files (for demos)', json_=False)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=8025)
    p.add_argument('--dir', default='var/mail', help='where received mail is kept')
    p = command('audit', 'the audit log; `audit verify` checks the hash chain and the tables against it')
    p.add_argument('action', nargs='?', choices=('verify',))
    p.add_argument('--procedure', type=int)
    p.add_argument('--anchor', metavar='SEQ:HASH', help='with verify: a head printed earlier and kept elsewhere')
    return parser


def _start_parser(p, type_):
    """A start subcommand drawn from the type's start schema: a flag per field."""
    if PARTY in type_.started_by:
        p.add_argument('--by', required=True, help='the party code it is for')
    if PUBLIC not in type_.started_by:
        p.add_argument('--person', help='who acts (default: the first representative, or the role)')
    for spec in describe(type_.start_schema):
        flag = '--' + spec.name.replace('_', '-')
        if spec.kind == 'yesno':
            p.add_argument(flag, dest=spec.name, action='store_true', help=spec.help)
        else:
            choices = f"one of {', '.join(spec.choices)}" if spec.choices else None
            p.add_argument(flag, dest=spec.name, required=spec.required,
                           help='; '.join(part for part in (spec.help, choices) if part) or None)
    if type_.document_purpose is not None:  # the type's start takes files (engine: ProcedureType)
        p.add_argument('--document', action='append', default=[], metavar='PATH',
                       help='attach a file to the request (repeatable)')
    p.add_argument('--json', action='store_true', help='machine-readable output')


def _start(args, app):
    type_ = registry.get(args.procedure_type)
    values = {spec.name: getattr(args, spec.name) for spec in describe(type_.start_schema)
              if getattr(args, spec.name) is not None}
    caller = Caller.operator_as(acting_for=getattr(args, 'by', None), person=getattr(args, 'person', None))
    return app.start(type_.id, caller, values, files=_files(getattr(args, 'document', [])))


def _write(path, content):
    """``-o FILE``: a folder that does not exist or may not be written is a refusal (exit 2), not a traceback."""
    try:
        Path(path).write_bytes(content)
    except OSError as err:
        raise CommandRefused.one('cli.unwritable_file', '-o', path=path, detail=err.strerror) from None


def _files(paths):
    """(name, bytes) of each ``--document PATH``; the engine checks and stores them with the command."""
    files = []
    for path in paths:
        try:
            files.append((Path(path).name, Path(path).read_bytes()))
        except OSError as err:
            raise CommandRefused.one('cli.unreadable_file', '--document', path=path, detail=err.strerror) from None
    return files


def _form_values(args):
    values = {}
    for item in args.set:
        name, sep, value = item.partition('=')
        if not sep or not name:
            raise CommandRefused.one('cli.not_name_value', '--set', item=item)
        values[name] = value
    if args.decision is not None:
        values['decision'] = args.decision
    if args.statement is not None:
        values['statement'] = args.statement
    return values


def _print(args, data, text):
    if getattr(args, 'json', False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(text(data) if callable(text) else text)


def _table(rows, columns):
    if not rows:
        return '(none)'
    widths = [max(len(c), *(len(str(r.get(c) or '')) for r in rows)) for c in columns]
    lines = ['  '.join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ['  '.join(str(r.get(c) or '').ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return '\n'.join(lines)


DEAL_FIELDS = ('slug', 'name', 'citeertitel', 'start', 'end', 'last_day_in_force', 'status', 'ended_on',
               'ended_reason', 'phase', 'parties')


def _deal_text(d):
    lines = [d['name'], f"in force {d['start']} to {d['last_day_in_force']} (ends on {d['end']}); status {d['status']}"]
    if d['ended_on']:
        lines.append(f"ended on {d['ended_on']}: {d['ended_reason']}")
    lines.append(f"phase {', '.join(map(str, d['phase'])) or '-'}; {d['parties']} Parties")
    return '\n'.join(lines)


def _show_text(p):
    lines = [f"Procedure {p['id']} ({p['type']}): {p['title']}",
             f"status {p['status']}, outcome {p['outcome'] or '-'}, started {p['started']}, deadline {p['deadline'] or '-'}",
             '', 'Answers:', _table(p['answers'], ['party', 'decision', 'person', 'at', 'statement']),
             '', 'Open tasks:', _table(p['open_tasks'], ['id', 'name', 'party', 'role', 'due']),
             '', 'Timeline:']
    lines += [f"  {e['at']}  {e['event']}  ({e['person']} for {e['acting_for']})" for e in p['timeline']]
    return '\n'.join(lines)


def _appendices_text(rows):
    out = []
    for a in rows:
        out.append(f"Bijlage {a['number']}: {a['title']} (procedure {a['procedure_id']}, adopted {a['adopted']})")
        out += [f"  {s['date']}  {s['party']}: {s['representative']}: {s['statement']}" for s in a['statements']]
    return '\n'.join(out) or '(none)'


def run(args, app):
    if args.command == 'init':
        slug, what = app.init(args.deal)
        print(f"deal {slug}: {what}")
        print(f'seal: {app.ensure_seal()} ({app.seal.path})')
    elif args.command == 'parties':
        _print(args, [{k: p[k] for k in ('code', 'name', 'kind', 'status', 'joined_on', 'left_on')}
                      for p in app.parties()],
               lambda rows: _table(rows, ['code', 'name', 'kind', 'status', 'joined_on', 'left_on']))
    elif args.command == 'deal':
        _print(args, {k: v for k, v in app.deal().items() if k in DEAL_FIELDS}, _deal_text)
    elif args.command == 'start':
        result = _start(args, app)
        _print(args, result, f"procedure {result['id']} started ({result['status']})")
    elif args.command == 'procedures':
        _print(args, [{k: p[k] for k in ('id', 'type', 'status', 'outcome', 'started', 'deadline')}
                      for p in app.procedures()],
               lambda rows: _table(rows, ['id', 'type', 'status', 'outcome', 'started', 'deadline']))
    elif args.command == 'show':
        _print(args, app.show(args.id), _show_text)
    elif args.command == 'tasks':
        rows = [{k: t[k] for k in ('id', 'procedure_id', 'procedure_type', 'name', 'party', 'role', 'due')}
                for t in app.tasks(party=args.party, role=args.role)]
        _print(args, rows, lambda r: _table(r, ['id', 'procedure_id', 'procedure_type', 'name', 'party', 'role', 'due']))
    elif args.command == 'complete':
        caller = Caller.operator_as(args.acting_for, args.person)
        result = app.revise(args.task, caller, _form_values(args), files=_files(args.document)) if args.revise \
            else app.complete(args.task, caller, _form_values(args), files=_files(args.document))
        _print(args, result, f"done; procedure {result['procedure_id']} is {result['status']}"
               + (f" ({result['outcome']})" if result['outcome'] else ''))
    elif args.command == 'new-version':
        values = {k: getattr(args, k) for k in ('text', 'title', 'motivation') if getattr(args, k) is not None}
        result = app.new_version(args.procedure, Caller.operator_as(args.acting_for, args.person), values)
        _print(args, result, f"new version put to the Parties; procedure {result['id']} is {result['status']}")
    elif args.command == 'appendices':
        return _appendices(args, app)
    elif args.command == 'documents':
        return _documents(args, app)
    elif args.command == 'tick':
        return _tick(args, app)
    elif args.command == 'send':
        sent, unsent = deliver(app, SmtpSettings.from_environment())
        _print(args, {'sent': sent, 'not_sent': unsent}, f'{sent} sent, {unsent} waiting for another try')
    elif args.command == 'outbox':
        _print(args, [{k: m[k] for k in ('id', 'to', 'subject', 'status', 'attempts', 'last_error', 'audit_head',
                                         'text')} for m in app.outbox(args.status)],
               lambda rows: _table(rows, ['id', 'to', 'status', 'attempts', 'subject', 'last_error']))
    elif args.command == 'requeue':
        count = app.requeue(args.ids or None)
        _print(args, {'requeued': count}, f'{count} message(s) back in the queue')
    elif args.command == 'calendar':
        sys.stdout.write(app.calendar(args.party))
    elif args.command == 'scheduler':
        return _scheduler(args, app)
    elif args.command == 'users':
        return _users(args, app)
    elif args.command == 'tokens':
        return _tokens(args, app)
    elif args.command == 'delegations':
        return _delegations(args, app)
    elif args.command == 'serve':
        from web.app import create_app
        app.next_due()  # refuses a database without a deal before the server starts
        create_app(app).run(host=args.host, port=args.port)
    elif args.command == 'audit' and args.action == 'verify':
        verdict = app.verify_audit(_anchor(args.anchor))
        files = app.verify_documents()
        _print(args, {'ok': verdict.ok and files.ok, 'entries': verdict.entries, 'head': verdict.head,
                      'message': verdict.message,
                      'tables': {'compared': verdict.tables_compared, 'rows': verdict.rows,
                                 'differences': [d.as_dict() for d in verdict.differences],
                                 'not_compared': list(verdict.not_compared)},
                      'documents': {'ok': files.ok, 'files': files.files, 'problems': list(files.problems)}},
               f'{verdict.message}\n{files.message}')
        return 0 if verdict.ok and files.ok else 1
    elif args.command == 'audit':
        _print(args, app.audit(args.procedure), lambda rows: '\n'.join(
            f"{e['seq']:>5}  {e['at']}  {e['event']:<22} {e['person']} for {e['acting_for']}"
            + (f"  procedure {e['procedure_id']}" if e['procedure_id'] else '') for e in rows) or '(none)')
    return 0


def _tick(args, app):
    fired = []

    def report(item):
        fired.append(item)
        if not args.json:
            print(f'fired: {item}', flush=True)
    try:
        app.tick(report)
    except TickFailed as failed:
        # The other items fired and are saved: say so rather than "nothing changed".
        for (when, what, ref), error in failed.failures:
            print(f'error: {what} {ref} due {when}: {error}', file=sys.stderr)
        print(f'{len(fired)} other item(s) fired and were saved', file=sys.stderr)
        return 2 if all(isinstance(e, CommandRefused) for _, e in failed.failures) else 1
    if args.json:
        print(json.dumps([{'due': str(f.due), 'what': f.what, 'procedure_id': f.procedure_id} for f in fired]))
    elif not fired:
        print('nothing due')
    return 0


def _scheduler(args, app):
    import logging

    from citydeal.scheduler import run_forever
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s %(message)s')
    for noisy in ('apscheduler', 'spiff'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = SmtpSettings.from_environment()
    app.next_due()  # refuses a database without a deal before anything starts
    stopping = _until_stopped()
    print(f'scheduler running; mail goes to {settings.host}:{settings.port}; Ctrl-C stops it', flush=True)
    run_forever(app, settings, stopping, lease_seconds=args.lease_seconds)
    return 0


def _until_stopped():
    """Block SIGINT and SIGTERM in every thread and return a wait for either.

    A Python signal handler that touches a lock can deadlock when a second signal arrives while the
    first handler holds it (Ctrl-C, then the SIGTERM of a shell's cleanup). Waiting for the signals
    with sigwait in the main thread takes no lock at all. Threads started after this inherit the mask.
    """
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    return lambda: signal.sigwait(stop_signals)


def _mail_sink(args):
    from notifications import mail_sink
    stopping = _until_stopped()
    controller = mail_sink.start(args.dir, args.host, args.port, announce=lambda line: print(line, flush=True))
    print(f'mail sink on {args.host}:{args.port}; every message is kept in {Path(args.dir).resolve()}/', flush=True)
    stopping()
    controller.stop()
    return 0


def _users(args, app):
    if args.action == 'add':
        password = sys.stdin.readline().rstrip('\n')
        account = app.add_user(args.email, password, party=args.party, role=args.role, name=args.name)
        print(f'account {account.email} added ({account.party or account.role or "deputy"})')
    elif args.action == 'list':
        rows = [{'email': a.email, 'name': a.name, 'party': a.party, 'role': a.role, 'active': a.is_active}
                for a in app.users()]
        _print(args, rows, lambda r: _table(r, ['email', 'name', 'party', 'role', 'active']))
    elif args.action == 'demo':
        password = sys.stdin.readline().rstrip('\n')
        existing = {a.email for a in app.users()}
        wanted = [(f"{p['code']}@demo.example", p['code'], None) for p in app.parties()]
        wanted += [(f'{role}@demo.example', None, role) for role in ROLE_NAMES]
        for email, party, role in wanted:
            if email not in existing:
                app.add_user(email, password, party=party, role=role)
        print(_table([{'login': email, 'for': party or role} for email, party, role in wanted], ['login', 'for']))
    else:
        app.disable_user(args.email)
        print(f'account {args.email} disabled')
    return 0


def _tokens(args, app):
    if args.action == 'create':
        token_id, token = app.create_token(args.email, args.name)
        print(f'token {token_id} for {args.email}; keep it now, it is not shown again:\n{token}')
    elif args.action == 'list':
        rows = app.tokens(args.email)
        _print(args, rows, lambda r: _table(r, ['id', 'email', 'name', 'created', 'revoked']))
    else:
        app.revoke_token(args.id)
        print(f'token {args.id} revoked')
    return 0


def _delegations(args, app):
    if args.action == 'list':
        _print(args, app.delegations(), lambda rows: _table(
            rows, ['id', 'party', 'deputy', 'granted_by', 'starts_on', 'ends_on', 'status', 'end_reason']))
    else:
        app.revoke_delegation(args.id)
        print(f'delegation {args.id} revoked')
    return 0


def _anchor(raw):
    from engine.audit import parse_anchor
    return None if raw is None else parse_anchor(raw, '--anchor')


def _appendices(args, app):
    if args.action is None:
        if args.target is not None or args.output is not None:
            raise CommandRefused.one('cli.appendices_action', 'appendices')
        _print(args, app.appendices(), _appendices_text)
        return 0
    if args.target is None:
        what = 'N, the bijlage number' if args.action == 'pdf' else 'FILE, the PDF to check'
        raise CommandRefused.one('cli.target_required', 'target', action=args.action, what=what)
    if args.action == 'pdf':
        if not args.target.isdigit():
            raise CommandRefused.one('field.not_a_number', 'N')
        if not args.output:
            raise CommandRefused.one('cli.output_required', '-o')
        pdf = app.appendix_pdf(int(args.target))
        _write(args.output, pdf)
        _print(args, {'number': int(args.target), 'file': args.output, 'bytes': len(pdf)},
               f'bijlage {args.target}: sealed PDF written to {args.output} ({len(pdf)} bytes)')
        return 0
    try:
        pdf = Path(args.target).read_bytes()
    except OSError as err:
        raise CommandRefused.one('cli.unreadable_file', 'FILE', path=args.target, detail=err.strerror) from None
    verdict = app.verify_appendix_pdf(pdf)
    _print(args, {'ok': verdict.ok, 'number': verdict.number, 'message': verdict.message}, verdict.message)
    return 0 if verdict.ok else 1


def _documents(args, app):
    if args.action == 'add':
        try:
            content = Path(args.path).read_bytes()
        except OSError as err:
            raise CommandRefused.one('cli.unreadable_file', 'document', path=args.path, detail=err.strerror) from None
        added = app.add_document(Path(args.path).name, content, procedure_id=args.procedure, purpose=args.purpose)
        _print(args, added, lambda d: f"document {d['id']}: {d['name']}, {d['media_type']}, {d['size']} bytes, "
                                      f"SHA-256 {d['sha256']}")
        return 0
    described, content = app.document(args.id)
    _write(args.output, content)
    print(f"document {described['id']} ({described['name']}, {described['media_type']}) written to {args.output}")
    return 0


def main(argv=None):
    from citydeal.bootstrap import CityDeal
    args = _parser().parse_args(argv)
    if args.command == 'mail-sink':
        return _mail_sink(args)
    try:
        app = CityDeal()
    except CommandRefused as refused:
        return _refused(refused)
    try:
        return run(args, app)
    except CommandRefused as refused:
        return _refused(refused)
    except Conflict as conflict:
        print(f'error: {conflict}; try again', file=sys.stderr)
        return 2
    finally:
        app.close()


def _refused(refused):
    language = os.environ.get('CITYDEAL_LANGUAGE', 'en')
    for problem in refused.problems:
        rule = f' (rule: {problem.rule})' if problem.rule else ''
        print(f'error: {problem.field}: {problem.message(language)}{rule}', file=sys.stderr)
    print('nothing was changed', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
