"""The pages. Each view checks who may do what, calls one engine operation, and renders."""
import json
from datetime import date

from flask import (Blueprint, Response, abort, current_app, flash, g, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import format_datetime, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from engine import procedures as registry
from engine import documents, rights, roles
from engine.audit import parse_anchor
from engine.errors import CommandRefused, Damaged, Forbidden, NotFound
from engine.procedures import fields as start_fields
from engine.procedures.paper import on_paper
from web import audit_csv, diagram, listing, uploads
from web.auth import caller, city_deal, require, task_scope
from web.labels import by_field, problem_text, purpose_label, start_label
from web.limits import ACCESSION_LIMIT, applicant_address, kept, limiter
from web.listing import PROCEDURE_TYPES, Page

blueprint = Blueprint('views', __name__)
#: who sees the overview of every running procedure
OVERVIEW_ROLES = tuple(role.name for role in roles.ALL if role.informed or role.audits)


@blueprint.app_context_processor
def _header():
    # The loaded deal's own names head every page: nothing of one deal shows in another's.
    loaded = city_deal().deal_names()
    # ``deal_title``: how a page names the deal in a sentence ("Toetreden tot de %(deal)s"): its citeertitel
    names = {'loaded_deal': loaded, 'deal_title': loaded['citeertitel'] if loaded else _('deal')}
    if not current_user.is_authenticated:
        return dict(names, task_count=0, today=city_deal().today(), startable=(), overview_roles=OVERVIEW_ROLES)
    me = caller()
    startable = [t.id for t in registry.all_types()
                 if registry.PUBLIC not in t.started_by and not t.about_procedure and rights.may_start(me, t)]
    return dict(names, task_count=_task_count(), today=city_deal().today(), startable=startable,
                overview_roles=OVERVIEW_ROLES)


#: what the projectleider and secretaris do with a party's paper request or notice: they register it
#: by whether the type asks its sender to confirm (a notice) or not (a request)
REGISTER_LABELS = {True: _l('Opzegging van een Partij registreren'),
                   False: _l('Wijzigingsverzoek van een Partij registreren')}


@blueprint.app_template_global()
def start_link_label(kind):
    """The words for starting ``kind``: a party proposes or gives notice, a registrar registers it."""
    type_ = registry.get(kind)
    if current_user.is_authenticated and current_user.role in registry.REGISTRARS \
            and registry.PARTY in type_.started_by and on_paper(type_):
        return str(REGISTER_LABELS[type_.asks_confirmation])
    return start_label(kind)


blueprint.add_app_template_global(purpose_label, 'purpose_label')


def _task_count():
    """Counted in SQL once per request: the header of every page shows it."""
    if 'task_count' not in g:
        parties, role = task_scope(current_user.account)
        g.task_count = city_deal().task_page(parties=parties, role=role, limit=0)['total']
    return g.task_count


def _form_values(names):
    """The posted fields as typed (the request itself is bounded); the engine says what is too long."""
    return {name: request.form[name] for name in names if name in request.form}


@blueprint.route('/')
def home():
    """Where a person lands: the projectleider and secretaris on the overview, the auditor on the audit,
    a representative on their tasks."""
    if not current_user.is_authenticated:
        return redirect(url_for('views.public'))
    return redirect(landing(current_user.account))


def landing(account):
    """The first page after login: the auditor's audit (it links to the overview), the overview of the
    projectleider and secretaris, a representative's tasks."""
    if account.role in roles.AUDITORS:
        return url_for('views.audit')
    if account.role in OVERVIEW_ROLES:
        return url_for('views.overview')
    return url_for('views.my_tasks')


@blueprint.route('/taken')
@login_required
def my_tasks():
    parties, role = task_scope(current_user.account)
    number = listing.page_number()
    page = Page(city_deal().task_page(parties=parties, role=role, offset=listing.offset(number),
                                      **listing.task_filters()), number)
    return render_template('tasks.html', page=page, tasks=page.rows, now=_now_shown(), types=PROCEDURE_TYPES)


@blueprint.route('/overzicht')
@login_required
def overview():
    """Every running procedure with its deadline and progress, nearest deadline first."""
    require(*OVERVIEW_ROLES)
    number = listing.page_number()
    page = Page(city_deal().procedure_page(offset=listing.offset(number), order='deadline',
                                           **listing.procedure_filters(default_status='running')), number)
    return render_template('overview.html', page=page, types=PROCEDURE_TYPES, statuses=listing.STATUSES,
                           status=request.args.get('status', 'running'))


def _now_shown():
    from engine.dates import shown
    return shown(city_deal().clock.now())


class TaskClosed(Exception):
    """The task was answered meanwhile: the page says so, by whom and when, to those it concerns."""

    def __init__(self, answer, message):
        super().__init__(message)
        self.answer, self.message = answer, message


@blueprint.app_errorhandler(TaskClosed)
def _task_closed(error):
    # Not an error to the person who answered: their answer, shown as the receipt it is.
    return render_template('task_closed.html', answer=error.answer), 200 if request.method == 'GET' else 409


def _task_or_error(task_id, read=None):
    """The task, if it is the person's (rights decided by the engine); 404, 403 or the answer given.
    ``read``: another read that also gives the task (task_with_procedure)."""
    try:
        return (read or city_deal().task_for)(task_id, caller())
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except CommandRefused as refused:
        _closed(task_id, refused)


def _closed(task_id, refused):
    answer = city_deal().answered_task(task_id)
    if answer is None or not (answer['party'] in current_user.acts_for or current_user.is_auditor):
        abort(403)
    raise TaskClosed(answer, problem_text(refused.problems[0])) from None


def _task_fields(task):
    return start_fields.describe(registry.form(task['procedure_type'], task['name']).schema)


def _takes_documents(task):
    """Whether files go with the task's answer: its form names what they are for (``document_purpose``)."""
    return registry.form(task['procedure_type'], task['name']).document_purpose is not None


def _confirm_page(task, fields, values, errors=None, sent=()):
    """The answer to confirm, with the file field where the task takes files: its POST is the command."""
    return render_template('confirm.html', task=task, fields=fields, values=values, errors=errors or {},
                           takes_documents=_takes_documents(task), documents_sent=sent,
                           revisable=task['name'] == registry.CONSENT_TASK), 422 if errors else 200


@blueprint.route('/taken/<task_id>', methods=['GET', 'POST'])
@login_required
def task(task_id):
    if request.method == 'GET':
        # the task and its procedure in one read: the page reads neither twice
        task, progress = _task_or_error(task_id, city_deal().task_with_procedure)
        return _task_page(task, _task_fields(task), {}, {}, progress)
    task = _task_or_error(task_id)
    fields = _task_fields(task)
    values, errors = {}, {}
    if request.method == 'POST':
        values = _form_values([f.name for f in fields])
        if request.form.get('back') == '1':  # "Terug, wijzigen" on the confirmation page: the form as typed
            return _task_page(task, fields, values, {})
        try:
            city_deal().check_task_values(task_id, caller(), values)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return _confirm_page(task, fields, values)
    return _task_page(task, fields, values, errors)


def _task_page(task, fields, values, errors, progress=None):
    progress = progress or city_deal().procedure_view(task['procedure_id'])
    return render_template('task.html', task=task, fields=fields, values=values, errors=errors, p=progress,
                           show_statements=_may_read_statements(progress),
                           takes_documents=_takes_documents(task)), 422 if errors else 200


def _may_read_statements(procedure):
    """Statements of a confidential request are for the Partijen, the projectleider, the secretaris and the
    auditor; an account with none of these roles (an administrator) does not read them."""
    return not procedure['request'].get('confidential') or rights.may_read_confidential(caller())


@blueprint.route('/taken/<task_id>/bevestigen', methods=['POST'])
@login_required
def confirm(task_id):
    # The command reads the task and the procedure once, and decides the rights itself: this view reads
    # nothing before it. Only a refusal needs the task again, to show the form with its errors.
    raw = {k: v for k, v in request.form.items() if k != 'csrf_token'}
    files = uploads.files()
    try:
        result = city_deal().complete(task_id, caller(), raw, files=files)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except CommandRefused as refused:
        if any(p.code == 'task.already_answered' for p in refused.problems):
            _closed(task_id, refused)
        task = _task_or_error(task_id)
        fields = _task_fields(task)
        values = _form_values([f.name for f in fields])
        if all(p.field == documents.FIELD for p in refused.problems):
            # The answer passed the step before; only its files are refused: this page again, to choose others.
            return _confirm_page(task, fields, values, by_field(refused), [name for name, _content in files])
        return _task_page(task, fields, values, by_field(refused))
    return redirect(url_for('views.receipt', seq=result['receipt']))


@blueprint.route('/ontvangstbewijs/<int:seq>')
@login_required
def receipt(seq):
    entry = city_deal().receipt(seq)
    if entry is None:
        abort(404)
    if not rights.may_read_receipt(caller(), entry['acting_for']):
        abort(403)
    # Issue 11: a party's answer to a consent request may be revised while its round is open.
    me = caller()
    return render_template('receipt.html', entry=entry, procedure=entry['procedure'],
                           kinds=_receipt_kinds(entry), own=entry['acting_for'] in (*me.parties, me.role),
                           revise_task=entry['data'].get('task_id') if entry['revisable'] else None)


def _receipt_kinds(entry):
    """{field: kind} of the task a receipt is for, so that a choice shows its words and a date a day."""
    try:
        form = registry.form(entry['procedure']['type'], entry['data'].get('task') or '')
    except (KeyError, NotFound):
        return {}
    return {spec.name: spec.kind for spec in start_fields.describe(form.schema)}


@blueprint.route('/taken/<task_id>/herzien', methods=['GET', 'POST'])
@login_required
def revise(task_id):
    answer = city_deal().answer_for_task(task_id)
    if answer is None:
        abort(404)
    if answer['party'] not in caller().parties:
        abort(403)  # an answer is revised by its own party's people, and shown to no one else here
    form = registry.form(answer['procedure_type'], registry.CONSENT_TASK)
    fields = start_fields.describe(form.schema)
    values, errors, files = {'decision': answer['decision'], 'statement': answer['statement']}, {}, []
    if request.method == 'POST':
        values = _form_values([f.name for f in fields])
        files = uploads.files()
        try:
            result = city_deal().revise(task_id, caller(), values, files=files)
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return redirect(url_for('views.receipt', seq=result['receipt']))
    return render_template('revise.html', task_id=task_id, procedure_id=answer['procedure_id'], fields=fields,
                           values=values, errors=errors, takes_documents=form.document_purpose is not None,
                           documents_sent=[name for name, _content in files] if errors else ()), \
        422 if errors else 200


def _version_fields(procedure):
    return start_fields.describe(registry.get(procedure['type']).new_version_schema)


def _version_form(procedure, values, errors, form=True):
    """The form (``form`` False: only why it cannot be sent now, the round having closed, say)."""
    return render_template('new_version.html', p=procedure, fields=_version_fields(procedure), values=values,
                           errors=errors, form=form), (409 if not form else 422 if errors else 200)


def _with_a_text(procedure_id):
    """The procedure as its page shows it; 404 when there is none, or its type has no text to put again."""
    try:
        shown = city_deal().procedure_view(procedure_id)
    except NotFound:
        abort(404)
    if registry.get(shown['type']).new_version is None:
        abort(404)
    return shown


@blueprint.route('/procedures/<int:procedure_id>/nieuwe-versie', methods=['GET', 'POST'])
@login_required
def new_version(procedure_id):
    """Issue 11: a new version of the text while the round is open (its requester or the projectleider, as
    engine.rights decides). The form, prefilled with the text as it stands, then a confirmation step."""
    app = city_deal()
    shown = _with_a_text(procedure_id)
    try:
        # who may, and whether the round still asks, the engine decides; the form is for them alone
        app.check_new_version(procedure_id, caller(), None)
    except Forbidden:
        abort(403)
    except CommandRefused as refused:
        return _version_form(shown, {}, by_field(refused), form=False)
    if request.method == 'GET':
        request_now = shown['request']
        return _version_form(shown, {'text': request_now.get('text', ''), 'title': request_now.get('title', '')}, {})
    values = _form_values([f.name for f in _version_fields(shown)])
    if request.form.get('back') == '1':  # "Terug, wijzigen" on the confirmation page: the form as typed
        return _version_form(shown, values, {})
    try:
        app.check_new_version(procedure_id, caller(), values)
    except Forbidden:
        abort(403)
    except CommandRefused as refused:
        return _version_form(shown, values, by_field(refused))
    return render_template('new_version_confirm.html', p=shown, fields=_version_fields(shown), values=values,
                           number=len(shown['versions'] or ()) + 1)


@blueprint.route('/procedures/<int:procedure_id>/nieuwe-versie/bevestigen', methods=['POST'])
@login_required
def confirm_new_version(procedure_id):
    app = city_deal()
    shown = _with_a_text(procedure_id)
    values = _form_values([f.name for f in _version_fields(shown)])
    try:
        app.new_version(procedure_id, caller(), values)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except CommandRefused as refused:
        return _version_form(shown, values, by_field(refused))
    flash(_('De nieuwe versie van de tekst is vastgelegd. Alle Partijen worden opnieuw om instemming gevraagd.'))
    return redirect(url_for('views.procedure', procedure_id=procedure_id, _anchor='versies-title'))


@blueprint.route('/procedures')
@login_required
def procedures():
    number = listing.page_number()
    page = Page(city_deal().procedure_page(offset=listing.offset(number), order='newest',
                                           **listing.procedure_filters()), number)
    return render_template('procedures.html', page=page, procedures=page.rows, types=PROCEDURE_TYPES,
                           statuses=listing.STATUSES, status=request.args.get('status', ''))


@blueprint.route('/procedures/<int:procedure_id>')
@login_required
def procedure(procedure_id):
    app = city_deal()
    try:
        shown = app.procedure_view(procedure_id)
    except NotFound:
        abort(404)
    state = _reached(app.diagram_state(procedure_id))
    return render_template('procedure.html', p=shown, svg=diagram.render(state), steps=_current_steps(shown),
                           timer_waiting=state['timer_waiting'], show_statements=_may_read_statements(shown),
                           may_put_new_version=app.may_put_new_version(procedure_id, caller()))


def _reached(state):
    """The diagram's state without the boundary timers that merely wait on a task ("Overlegtermijn verstreken"
    is armed while the Parties answer, not a step reached); whether a timer waits is kept apart."""
    kinds = diagram._model(str(state['model']))[0]
    timers = {i for i in state['active'] if kinds.get(i) in ('boundaryEvent', 'intermediateCatchEvent')}
    return dict(state, active={i for i in state['active'] if kinds.get(i) != 'boundaryEvent'},
                timer_waiting=bool(timers))


def _current_steps(procedure):
    """The steps a procedure is at: its open tasks (the user tasks that are ready), each named once."""
    return list(dict.fromkeys(t['label'] for t in procedure['open_tasks'] if t['label']))


def _start_values(type_):
    """The posted start fields; a ticked box is yes, an unticked one no; a field left empty is not given."""
    values = {}
    for spec in start_fields.describe(type_.start_schema):
        if spec.kind == 'yesno':
            values[spec.name] = 'true' if request.form.get(spec.name) == 'on' else 'false'
        elif request.form.get(spec.name, '') != '':
            values[spec.name] = request.form[spec.name]
    return values


@blueprint.route('/procedures/nieuw/<kind>', methods=['GET', 'POST'])
@login_required
def start(kind):
    try:
        type_ = registry.get(kind)
    except NotFound:
        abort(404)
    if registry.PUBLIC in type_.started_by:
        return redirect(url_for('views.accession'))
    me = caller(acting_for=request.form.get('by') or None)
    if not rights.may_start(me, type_):
        abort(403)
    registering = current_user.role in registry.REGISTRARS and registry.PARTY in type_.started_by \
        and registry.on_paper(type_)
    takes_documents = type_.document_purpose is not None
    errors, values, existing, files = {}, {}, None, []
    if request.method == 'GET':
        values = {k: v for k, v in request.args.items() if k in type_.start_schema().fields}
    else:
        values = _start_values(type_)
        files = uploads.files()
        # The files' problems are shown with every field's at once (the engine stops at the first that fails).
        early = documents.Attachments(files=tuple(files)).problems() if takes_documents else []
        if type_.asks_confirmation and request.form.get('understood') != 'on':
            # Not started without the box ticked; what else the engine would refuse is shown with it.
            early.append(start_fields.Problem('opzegging.confirm_required', 'understood'))
        try:
            if early:
                raise CommandRefused(_every_problem(type_, me, values, ()) + early)
            result = city_deal().start(type_.id, me, values, files=files)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            problems = refused.problems if early else _every_problem(type_, me, values, refused.problems)
            errors = by_field(CommandRefused(problems))
            if registering and errors.get('by'):
                errors['by'] = [_('Kies de Partij van wie u het schriftelijke stuk registreert.')]
            if registering and errors.get('understood'):
                errors['understood'] = [_('Vink aan dat de Partij haar deelname schriftelijk opzegt en dat u die '
                                          'opzegging registreert.')]
            values = dict(values, **{k: 'on' for k in request.form if request.form.get(k) == 'on'})
            values['by'] = request.form.get('by', '')
            existing = _existing(type_, refused)
        else:
            return redirect(url_for('views.procedure', procedure_id=result['id']))
    return render_template(f'start_{kind}.html', values=values, errors=errors, type_id=type_.id, existing=existing,
                           registering=registering, parties=city_deal().parties() if registering else (),
                           takes_documents=takes_documents,
                           documents_sent=[name for name, _content in files] if errors else ()), \
        422 if errors else 200


def _every_problem(type_, me, values, problems, rounds=6):
    """Every error of a start form at once. The engine stops at the first check that fails (who acts
    before the fields, the fields before the type's own rules: a date out of range, a received day in the
    future), so the start is tried again with each field already refused set to a value that passes,
    until no other field is refused. A try is never saved: its unit of work is closed without commit."""
    problems, specs = list(problems), {f.name: f for f in start_fields.describe(type_.start_schema)}
    for _round in range(rounds):
        refused_fields = {p.field for p in problems}
        if problems and not refused_fields <= set(specs) | {'by'}:
            break  # a refusal of something else than a field (the deal, the rights): nothing more to learn
        trial, who = dict(values), me
        for name in refused_fields:
            if name == 'by':
                who = caller(acting_for=me.parties[0] if me.parties else _a_current_party())
            elif specs[name].required or name == 'received':
                trial[name] = _passing(specs[name])
            else:
                trial.pop(name, None)
        more = [p for p in _try_start(type_, who, trial) if p.field not in refused_fields]
        if not more:
            break
        problems += more
    return problems


def _passing(spec):
    """A value that the field's own check accepts, to reach the checks after it."""
    today = city_deal().today()
    return {'date': today.isoformat(), 'number': str(today.year), 'yesno': 'true',
            'choice': (spec.choices or ('',))[0]}.get(spec.kind, 'x')


def _a_current_party():
    return next((p['code'] for p in city_deal().parties() if p['status'] == 'active'), None)


def _try_start(type_, who, values):
    """The problems a start would meet, in a unit of work that is never committed (closing it rolls back)."""
    from engine import commands
    try:
        with city_deal().unit_of_work() as uow:
            commands.start(uow.context(), type_.id, who, values)
    except CommandRefused as refused:
        return list(refused.problems)
    except Exception:  # noqa: BLE001 - a try that fails otherwise teaches nothing about the fields
        return []
    return []


def _existing(type_, refused):
    """The procedure a refusal says already exists (a yearly cycle started twice), so the page links to it."""
    for problem in refused.problems:
        if problem.code.endswith('.exists') and problem.params.get('procedure'):
            try:
                return city_deal().procedure_view(problem.params['procedure'])
            except NotFound:
                return None
    return None


@blueprint.route('/toetreden', methods=['GET', 'POST'])
@limiter.limit(ACCESSION_LIMIT, methods=['POST'], deduct_when=kept)
@limiter.limit(ACCESSION_LIMIT, methods=['POST'], key_func=applicant_address, deduct_when=kept)
def accession():
    """The request is kept and the applicant mailed a confirmation link; nothing starts before that."""
    errors, values, sent = {}, {}, None
    if request.method == 'POST' and current_user.is_authenticated \
            and not rights.may_start(caller(), registry.public_request()):
        abort(403)  # an auditor, logged in, changes nothing: not even by the public form
    if request.method == 'POST':
        values = _start_values(registry.public_request())
        try:
            sent = city_deal().request_accession(values, _confirmation_link)
        except CommandRefused as refused:
            errors = by_field(refused)
        values = dict(values, **{k: 'on' for k in request.form if request.form.get(k) == 'on'})
    sent = format_datetime(sent, 'd MMMM y, HH.mm') if sent else None
    kinds = city_deal().deal()['party_kinds']
    return render_template('accession.html', values=values, errors=errors, sent=sent, kinds=kinds), \
        422 if errors else 200


def _confirmation_link(token):
    """CITYDEAL_BASE_URL when set (production: a Host header must never choose where the link points)."""
    path = url_for('views.accession_confirm', token=token)
    base = current_app.config.get('CITYDEAL_BASE_URL')
    return base.rstrip('/') + path if base else url_for('views.accession_confirm', token=token, _external=True)


@blueprint.route('/toetreden/bevestigen/<token>', methods=['GET', 'POST'])
def accession_confirm(token):
    """GET shows the request with a button (a mail scanner that follows the link confirms nothing);
    the POST, with its CSRF token, starts the toetreding."""
    app = city_deal()
    try:
        pending = app.pending_accession(token)
    except NotFound:
        return render_template('accession_confirm.html', pending=None, errors={}, done=None), 404
    errors, done = {}, None
    if request.method == 'POST':
        try:
            done = app.confirm_accession(token)
        except NotFound:
            return render_template('accession_confirm.html', pending=None, errors={}, done=None), 404
        except CommandRefused as refused:
            errors = by_field(refused)
    response = make_response(render_template('accession_confirm.html', pending=pending, errors=errors, done=done),
                             422 if errors else 200)
    # The applicant's request and address must not stay behind in a shared browser's cache.
    response.headers['Cache-Control'] = 'no-store'
    return response


@blueprint.route('/deal')
@login_required
def deal():
    app = city_deal()
    return render_template('deal.html', deal=app.deal(), parties=app.parties(), appendices=app.appendices())


@blueprint.route('/openbaar')
def public():
    app = city_deal()
    return render_template('public.html', deal=app.deal(), parties=app.parties(),
                           appendices=app.appendices(public=True), head=app.audit_head())


def _pdf(content, name):
    return Response(content, mimetype='application/pdf', headers={'Content-Disposition': f'inline; filename={name}'})


@blueprint.route('/bijlagen/<int:n>.pdf')
def appendix_pdf(n):
    """Bijlage N as a sealed PDF: public, unless its text is confidential (then for logged-in people)."""
    app = city_deal()
    try:
        confidential = app.appendix_confidential(n)
    except NotFound:
        abort(404)
    if confidential and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return _pdf(app.appendix_pdf(n), f'bijlage-{n}.pdf')


@blueprint.route('/documenten/<int:document_id>')
def document(document_id):
    """A stored document, with the API's rights: logged in, what the person may see; else public ones only."""
    viewer = current_user.account if current_user.is_authenticated else None
    try:
        described, content = city_deal().document(document_id, viewer=viewer)
    except NotFound:
        if viewer is None:
            return current_app.login_manager.unauthorized()
        abort(404)
    except Damaged as damaged:
        return render_template('error.html', status=500, title=_('Document niet beschikbaar'),
                               detail=problem_text(damaged.problems[0])), 500
    from web.api import attachment_header
    return Response(content, mimetype=described['media_type'],
                    headers={'Content-Disposition': attachment_header(described['name'])})


@blueprint.route('/deal.pdf')
def deal_pdf():
    """The deal as one sealed PDF; the public version leaves out the texts of confidential bijlagen."""
    return _pdf(city_deal().deal_pdf(public=not current_user.is_authenticated), 'city-deal.pdf')


AUDIT_FILTERS = ('event', 'procedure_type', 'status', 'party', 'person', 'since', 'until')


def _audit_filters():
    filters = {k: (request.args.get(k) or None) for k in AUDIT_FILTERS}
    for day in ('since', 'until'):
        if filters[day]:
            try:
                filters[day] = date.fromisoformat(filters[day])
            except ValueError:
                abort(400)
            if not 1900 <= filters[day].year <= 2200:
                abort(400)
    return filters


@blueprint.route('/audit')
@login_required
def audit():
    require(*roles.AUDITORS)
    app = city_deal()
    anchor_text, anchor, anchor_error = request.args.get('anchor', '').strip()[:200], None, None
    if anchor_text:
        try:
            anchor = parse_anchor(anchor_text)
        except CommandRefused:
            anchor_error = _('Vul de kop in zoals die in een bericht staat: een getal, een dubbele punt en 64 '
                             'tekens (0-9, a-f), bijvoorbeeld 42:ab12….')
    number = listing.page_number()
    page = Page(app.audit_page(offset=listing.offset(number), **_audit_filters()), number)
    return render_template('audit.html', page=page, entries=page.rows, verdict=app.verify_audit(anchor),
                           files=app.verify_documents(), anchor=anchor_text, anchor_used=anchor is not None,
                           anchor_error=anchor_error,
                           filters={k: request.args.get(k, '') for k in AUDIT_FILTERS}, types=PROCEDURE_TYPES,
                           parties=app.parties()), 422 if anchor_error else 200


@blueprint.route('/audit/export.<fmt>')
@login_required
def audit_export(fmt):
    """The audit as a file: JSON as stored; CSV for a spreadsheet, in Dutch, one column per data field.

    CSV is `;`-separated with a UTF-8 BOM (what Dutch Excel opens as columns); ``?format=rfc4180`` gives
    comma-separated RFC 4180 without a BOM, for other programs.
    """
    require(*roles.AUDITORS)
    filters = _audit_filters()
    if fmt == 'json':
        entries = city_deal().audit_search(**filters)
        return Response(json.dumps(entries, ensure_ascii=False, indent=1), mimetype='application/json',
                        headers={'Content-Disposition': 'attachment; filename=audit.json'})
    if fmt != 'csv':
        abort(404)
    dialect = request.args.get('format', 'excel-nl')
    if dialect not in ('excel-nl', 'rfc4180'):
        abort(400)
    entries = city_deal().audit_page(offset=0, limit=None, **filters)['rows']
    accounts = {a.id: a.name or a.email for a in city_deal().users()}
    body = audit_csv.render(entries, rfc4180=dialect == 'rfc4180', accounts=accounts)
    # mimetype without a charset: Flask adds "; charset=utf-8" to a text/* type once itself
    return Response(body, mimetype='text/csv', headers={'Content-Disposition': 'attachment; filename=audit.csv'})


@blueprint.route('/toegankelijkheid')
def accessibility():
    return render_template('accessibility.html', contact=_secretaris())


def _secretaris():
    """The secretaris as the deal file names it (name, e-mail address): the contact for the accessibility
    statement; None before a deal is loaded."""
    from engine import register

    def read(session):
        from sqlalchemy import select

        from engine.models import Deal
        deal = session.scalars(select(Deal)).first()
        return deal and register.definition(deal).roles.get(roles.SECRETARIS.name)
    try:
        return city_deal()._read(read)
    except CommandRefused:
        return None


@blueprint.route('/delegeren', methods=['GET', 'POST'])
@login_required
def delegate():
    """A representative names a deputy for a period, sees the party's delegations and revokes them."""
    require(party=True)
    if not current_user.party or current_user.party not in current_user.acts_for:
        abort(403)
    app = city_deal()
    errors, values, done = {}, {}, None
    if request.method == 'POST' and 'revoke' in request.form:
        from engine.unit_of_work import Actor
        if not request.form['revoke'].isdigit():
            abort(400)
        try:
            app.revoke_delegation(int(request.form['revoke']),
                                  Actor(current_user.name, current_user.party, current_user.account.id),
                                  party=current_user.party)
        except NotFound:
            abort(404)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            done = 'revoked'
    elif request.method == 'POST':
        values = _form_values(('deputy', 'starts_on', 'ends_on'))
        # Every field's own error at once; the engine's checks (who the deputy is, the period) follow.
        problems = [start_fields.Problem('field.required', 'deputy')] if not values.get('deputy', '').strip() else []
        days = {}
        for field in ('starts_on', 'ends_on'):
            try:
                days[field] = _date(values.get(field), field)
            except CommandRefused as refused:
                problems += refused.problems
        try:
            if problems:
                raise CommandRefused(problems)
            app.delegate(current_user.account, values['deputy'], days['starts_on'], days['ends_on'])
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            done, values = 'granted', {}
    return render_template('delegate.html', values=values, errors=errors, done=done,
                           delegations=app.delegations(current_user.party)), 422 if errors else 200


@blueprint.route('/tokens', methods=['GET', 'POST'])
@login_required
def tokens():
    """Personal API tokens: the same rights as their person; shown once, revocable at any time."""
    app = city_deal()
    new_token = None
    if request.method == 'POST':
        from engine.runner import Actor
        actor = Actor(current_user.name, current_user.party or current_user.role, current_user.account.id)
        if request.form.get('revoke', '').isdigit():
            try:
                app.revoke_token(int(request.form['revoke']), actor, owner_id=current_user.account.id)
            except NotFound:
                abort(404)
        else:
            _, new_token = app.create_token(current_user.email, request.form.get('name', '')[:100] or 'api', actor)
    return render_template('tokens.html', tokens=app.tokens(current_user.email), new_token=new_token)


def _date(raw, field):
    if not (raw or '').strip():
        raise CommandRefused.one('field.required', field)
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise CommandRefused.one('field.not_a_date', field) from None
