"""The pages. Each view checks who may do what, calls one engine operation, and renders."""
import csv
import io
import json
from datetime import date

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine import procedures as registry
from engine import rights
from engine.deal_file import PARTY_KINDS
from engine.errors import CommandRefused, Forbidden, NotFound
from engine.procedures import fields as start_fields
from engine.procedures.consent_round import CONSENT_TASK
from engine.procedures.paper import REGISTRARS, on_paper
from web import diagram
from web.auth import caller, city_deal, require, tasks_for
from web.labels import by_field, problem_text

blueprint = Blueprint('views', __name__)


@blueprint.app_context_processor
def _header():
    if not current_user.is_authenticated:
        return {'task_count': 0, 'today': city_deal().today(), 'startable': ()}
    me = caller()
    startable = [t.id for t in registry.all_types()
                 if registry.PUBLIC not in t.started_by and not t.about_procedure and rights.may_start(me, t)]
    return {'task_count': len(_my_tasks()), 'today': city_deal().today(), 'startable': startable}


def _my_tasks():
    """Read once per request: "Mijn taken" lists them and the header of the same page counts them."""
    if 'my_tasks' not in g:
        g.my_tasks = tasks_for(current_user.account)
    return g.my_tasks


def _form_values(names):
    """The posted fields as typed (the request itself is bounded); the engine says what is too long."""
    return {name: request.form[name] for name in names if name in request.form}


@blueprint.route('/')
def home():
    return redirect(url_for('views.my_tasks') if current_user.is_authenticated else url_for('views.public'))


@blueprint.route('/taken')
@login_required
def my_tasks():
    return render_template('tasks.html', tasks=_my_tasks(), now=_now_shown())


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
    return render_template('task_closed.html', answer=error.answer, message=error.message), 409


def _task_or_error(task_id):
    """The task, if it is the person's (rights decided by the engine); 404, 403 or the answer given."""
    try:
        return city_deal().task_for(task_id, caller())
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


@blueprint.route('/taken/<task_id>', methods=['GET', 'POST'])
@login_required
def task(task_id):
    task = _task_or_error(task_id)
    fields = _task_fields(task)
    values, errors = {}, {}
    if request.method == 'POST':
        values = _form_values([f.name for f in fields])
        try:
            city_deal().check_task_values(task_id, caller(), values)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return render_template('confirm.html', task=task, fields=fields, values=values)
    return render_template('task.html', task=task, fields=fields, values=values, errors=errors), \
        422 if errors else 200


@blueprint.route('/taken/<task_id>/bevestigen', methods=['POST'])
@login_required
def confirm(task_id):
    # The command reads the task and the procedure once, and decides the rights itself: this view reads
    # nothing before it. Only a refusal needs the task again, to show the form with its errors.
    raw = {k: v for k, v in request.form.items() if k != 'csrf_token'}
    try:
        result = city_deal().complete(task_id, caller(), raw)
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
        return render_template('task.html', task=task, fields=fields, values=values, errors=by_field(refused)), 422
    return redirect(url_for('views.receipt', seq=result['receipt']))


@blueprint.route('/ontvangstbewijs/<int:seq>')
@login_required
def receipt(seq):
    entry = city_deal().receipt(seq)
    if entry is None:
        abort(404)
    if not rights.may_read_receipt(caller(), entry['acting_for']):
        abort(403)
    procedure = city_deal().show(entry['procedure_id'])
    # Issue 11: a party's answer to a consent request may be revised while the round is open.
    revisable = (entry['event'] in ('task_completed', 'answer_revised') and entry['data'].get('party')
                 and entry['data'].get('task_id') and procedure['status'] == 'running'
                 and any(t['name'] == CONSENT_TASK for t in procedure['open_tasks']))
    return render_template('receipt.html', entry=entry, procedure=procedure,
                           revise_task=entry['data']['task_id'] if revisable else None)


@blueprint.route('/taken/<task_id>/herzien', methods=['GET', 'POST'])
@login_required
def revise(task_id):
    answer = city_deal().answer_for_task(task_id)
    if answer is None:
        abort(404)
    fields = start_fields.describe(registry.form(answer['procedure_type'], CONSENT_TASK).schema)
    values, errors = {'decision': answer['decision'], 'statement': answer['statement']}, {}
    if request.method == 'POST':
        values = _form_values([f.name for f in fields])
        try:
            result = city_deal().revise(task_id, caller(), values)
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return redirect(url_for('views.receipt', seq=result['receipt']))
    return render_template('revise.html', task_id=task_id, procedure_id=answer['procedure_id'], fields=fields,
                           values=values, errors=errors), 422 if errors else 200


@blueprint.route('/procedures')
@login_required
def procedures():
    return render_template('procedures.html', procedures=list(reversed(city_deal().procedures())))


@blueprint.route('/procedures/<int:procedure_id>')
@login_required
def procedure(procedure_id):
    app = city_deal()
    try:
        shown = app.show(procedure_id)
    except NotFound:
        abort(404)
    svg = diagram.render(app.diagram_state(procedure_id))
    return render_template('procedure.html', p=shown, svg=svg, days_left=_days_left(shown['deadline']))


def _days_left(deadline):
    if not deadline:
        return None
    return (date.fromisoformat(deadline[:10]) - city_deal().today()).days


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
    errors, values = {}, {}
    if request.method == 'GET':
        values = {k: v for k, v in request.args.items() if k in type_.start_schema().fields}
    else:
        values = _start_values(type_)
        problems = []
        if type_.asks_confirmation and request.form.get('understood') != 'on':
            problems.append(start_fields.Problem('opzegging.confirm_required', 'understood'))
        try:
            if problems:
                raise CommandRefused(problems)
            result = city_deal().start(type_.id, me, values)
        except Forbidden:
            abort(403)
        except CommandRefused as refused:
            errors = by_field(refused)
            values = dict(values, **{k: 'on' for k in request.form if request.form.get(k) == 'on'})
            values['by'] = request.form.get('by', '')
        else:
            return redirect(url_for('views.procedure', procedure_id=result['id']))
    registering = current_user.role in REGISTRARS and registry.PARTY in type_.started_by and on_paper(type_)
    return render_template(f'start_{kind}.html', values=values, errors=errors, type_id=type_.id,
                           registering=registering, parties=city_deal().parties() if registering else ()), \
        422 if errors else 200


def start_public_request(values):
    """A written request from outside (to join): anyone may send one; the engine checks it."""
    return city_deal().start(registry.public_request().id, rights.Caller(person=None), values)


@blueprint.route('/toetreden', methods=['GET', 'POST'])
def accession():
    errors, values, done = {}, {}, None
    if request.method == 'POST':
        values = _start_values(registry.public_request())
        try:
            done = start_public_request(values)
        except CommandRefused as refused:
            errors = by_field(refused)
        values = dict(values, **{k: 'on' for k in request.form if request.form.get(k) == 'on'})
    return render_template('accession.html', values=values, errors=errors, done=done, kinds=PARTY_KINDS), \
        422 if errors else 200


@blueprint.route('/deal')
@login_required
def deal():
    app = city_deal()
    return render_template('deal.html', deal=app.deal(), parties=app.parties(), appendices=app.appendices())


@blueprint.route('/openbaar')
def public():
    app = city_deal()
    return render_template('public.html', deal=app.deal(), parties=app.parties(),
                           appendices=app.appendices(public=True))


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
    require('auditor')
    app = city_deal()
    filters = _audit_filters()
    return render_template('audit.html', entries=app.audit_search(**filters), verdict=app.verify_audit(),
                           filters={k: request.args.get(k, '') for k in AUDIT_FILTERS}, types=registry.IDS,
                           parties=app.parties())


@blueprint.route('/audit/export.<fmt>')
@login_required
def audit_export(fmt):
    require('auditor')
    entries = city_deal().audit_search(**_audit_filters())
    if fmt == 'json':
        return Response(json.dumps(entries, ensure_ascii=False, indent=1), mimetype='application/json',
                        headers={'Content-Disposition': 'attachment; filename=audit.json'})
    if fmt != 'csv':
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(['seq', 'at', 'person', 'acting_for', 'procedure_id', 'event', 'data', 'hash'])
    for e in entries:
        writer.writerow([_cell(value) for value in (e['seq'], e['at'], e['person'], e['acting_for'], e['procedure_id'],
                                                     e['event'], json.dumps(e['data'], ensure_ascii=False), e['hash'])])
    return Response(out.getvalue(), mimetype='text/csv',
                    headers={'Content-Disposition': 'attachment; filename=audit.csv'})


def _cell(value):
    """A spreadsheet must not read a submitted text as a formula (=, +, -, @ first)."""
    text = '' if value is None else str(value)
    return "'" + text if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text


@blueprint.route('/delegeren', methods=['GET', 'POST'])
@login_required
def delegate():
    require(party=True)
    if not current_user.party:
        abort(403)
    errors, values, done = {}, {}, False
    if request.method == 'POST':
        values = _form_values(('deputy', 'starts_on', 'ends_on'))
        try:
            starts_on = _date(values.get('starts_on'), 'starts_on')
            ends_on = _date(values.get('ends_on'), 'ends_on')
            city_deal().delegate(current_user.account, values.get('deputy', ''), starts_on, ends_on)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            done = True
    return render_template('delegate.html', values=values, errors=errors, done=done), 422 if errors else 200


@blueprint.route('/tokens', methods=['GET', 'POST'])
@login_required
def tokens():
    """Personal API tokens: the same rights as their person; shown once, revocable at any time."""
    app = city_deal()
    new_token = None
    if request.method == 'POST':
        from engine.runner import Actor
        actor = Actor(current_user.name, current_user.party or current_user.role)
        if request.form.get('revoke', '').isdigit():
            try:
                app.revoke_token(int(request.form['revoke']), actor, owner_id=current_user.account.id)
            except NotFound:
                abort(404)
        else:
            _, new_token = app.create_token(current_user.email, request.form.get('name', '')[:100] or 'api', actor)
    return render_template('tokens.html', tokens=app.tokens(current_user.email), new_token=new_token)


def _date(raw, field):
    try:
        return date.fromisoformat(raw or '')
    except ValueError:
        raise CommandRefused.one('field.not_a_date', field) from None
