"""The pages. Each view checks who may do what, calls one engine operation, and renders."""
import json
from datetime import date

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import forms as task_forms
from engine.deal_file import PARTY_KINDS
from engine.errors import CommandRefused, NotFound
from web import audit_csv, diagram, listing
from web.auth import acting_for, city_deal, require, task_scope
from web.listing import PROCEDURE_TYPES, Page
from web.messages import by_field

blueprint = Blueprint('views', __name__)
#: who sees the overview of every running procedure
OVERVIEW_ROLES = ('projectleider', 'secretaris', 'auditor')


@blueprint.app_context_processor
def _header():
    count = _task_count() if current_user.is_authenticated else 0
    return {'task_count': count, 'today': city_deal().today(), 'overview_roles': OVERVIEW_ROLES}


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
    if account.role == 'auditor':
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


def _task_or_404(task_id):
    try:
        task = city_deal().task_view(task_id)
    except NotFound:
        abort(404)
    except CommandRefused as refused:
        answer = city_deal().answered_task(task_id)
        if answer is None or not (answer['party'] in current_user.acts_for or current_user.is_auditor):
            abort(403)
        raise TaskClosed(answer, refused.problems[0].message) from None
    who = acting_for(current_user.account, task)
    if who is None:
        abort(403)
    return task, who


@blueprint.route('/taken/<task_id>', methods=['GET', 'POST'])
@login_required
def task(task_id):
    task, acting_for = _task_or_404(task_id)
    fields = task_forms.describe(task['procedure_type'], task['name'])
    values, errors = {}, {}
    if request.method == 'POST':
        values = _form_values([f.name for f in fields])
        if request.form.get('back') == '1':  # "Terug, wijzigen" on the confirmation page: the form as typed
            return _task_page(task, fields, values, {})
        try:
            city_deal().check_task_values(task_id, acting_for, values, person=current_user.name)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return render_template('confirm.html', task=task, fields=fields, values=values)
    return _task_page(task, fields, values, errors)


def _task_page(task, fields, values, errors):
    progress = city_deal().procedure_view(task['procedure_id'])
    return render_template('task.html', task=task, fields=fields, values=values, errors=errors, p=progress,
                           show_statements=_may_read_statements(progress)), 422 if errors else 200


def _may_read_statements(procedure):
    """Statements of a confidential request are for the Partijen, the projectleider, the secretaris and the
    auditor; an account with none of these roles (an administrator) does not read them."""
    if not procedure['request'].get('confidential'):
        return True
    return bool(current_user.acts_for) or current_user.role in OVERVIEW_ROLES


@blueprint.route('/taken/<task_id>/bevestigen', methods=['POST'])
@login_required
def confirm(task_id):
    task, acting_for = _task_or_404(task_id)
    fields = task_forms.describe(task['procedure_type'], task['name'])
    values = _form_values([f.name for f in fields])
    try:
        result = city_deal().complete(task_id, acting_for, values, person=current_user.name)
    except CommandRefused as refused:
        return _task_page(task, fields, values, by_field(refused))
    return redirect(url_for('views.receipt', seq=result['receipt']))


@blueprint.route('/ontvangstbewijs/<int:seq>')
@login_required
def receipt(seq):
    entries = [e for e in city_deal().audit_search() if e['seq'] == seq and e['event'] == 'task_completed']
    if not entries:
        abort(404)
    entry = entries[0]
    if not (current_user.is_auditor or entry['acting_for'] in current_user.acts_for
            or entry['acting_for'] == current_user.role):
        abort(403)
    return render_template('receipt.html', entry=entry, procedure=city_deal().show(entry['procedure_id']))


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
    state = app.diagram_state(procedure_id)
    return render_template('procedure.html', p=shown, svg=diagram.render(state), steps=diagram.current_steps(state),
                           show_statements=_may_read_statements(shown))


def _acting_party():
    """The party a representative starts for: their own, or one delegated to them."""
    require(party=True)
    chosen = request.form.get('party') or current_user.acts_for[0]
    if chosen not in current_user.acts_for:
        abort(403)
    return chosen


START_FIELDS = {
    'wijziging': ('title', 'text', 'motivation', 'new_end_date'),
    'opzegging': ('circumstances',),
}


@blueprint.route('/procedures/nieuw/<kind>', methods=['GET', 'POST'])
@login_required
def start(kind):
    app = city_deal()
    errors, values, existing = {}, {}, None
    if kind in ('wijziging', 'opzegging'):
        require(party=True)
    elif kind in ('jaarcyclus', 'voortzetting'):
        require('projectleider')
    else:
        abort(404)
    if request.method == 'POST':
        values = _form_values(START_FIELDS.get(kind, ()) + ('year', 'party', 'confidential', 'understood'))
        confidential = request.form.get('confidential') == 'on'
        try:
            if kind == 'wijziging':
                result = app.start_wijziging(by=_acting_party(), title=values.get('title', ''),
                                             text=values.get('text', ''), motivation=values.get('motivation') or None,
                                             new_end_date=values.get('new_end_date') or None,
                                             person=current_user.name, confidential=confidential)
            elif kind == 'opzegging':
                if request.form.get('understood') != 'on':
                    raise _unconfirmed_notice(values)
                result = app.start_opzegging(by=_acting_party(), circumstances=values.get('circumstances', ''),
                                             person=current_user.name, confidential=confidential)
            elif kind == 'jaarcyclus':
                result = app.start_jaarcyclus(year=values.get('year', ''), person=current_user.name)
            else:
                result = app.start_voortzetting(person=current_user.name)
        except CommandRefused as refused:
            errors = by_field(refused)
            if kind == 'jaarcyclus':
                existing = _existing_cycle(values.get('year', ''))
        else:
            return redirect(url_for('views.procedure', procedure_id=result['id']))
    return render_template(f'start_{kind}.html', values=values, errors=errors, existing=existing), \
        422 if errors else 200


def _unconfirmed_notice(values):
    """Every error of the opzegging form at once: the box not ticked, and the circumstances if blank."""
    from engine.errors import Problem
    problems = [Problem('understood', _('Bevestig dat u de deelname wilt opzeggen.'))]
    if not values.get('circumstances', '').strip():
        problems.insert(0, Problem('circumstances', 'is required and must not be blank'))
    return CommandRefused(problems)


def _existing_cycle(year):
    """The yearly cycle already started for ``year``, so that a refusal can link to it."""
    year = year.strip()
    if not year.isdigit():
        return None
    found = city_deal().procedure_page(type_='jaarcyclus', search=year, limit=10, order='newest')['rows']
    return next((p for p in found if str(p['request'].get('year')) == year), None)


@blueprint.route('/toetreden', methods=['GET', 'POST'])
def accession():
    errors, values, done = {}, {}, None
    if request.method == 'POST':
        values = _form_values(('applicant', 'kind', 'representative', 'email', 'contribution', 'endorses_goals',
                               'confidential'))
        try:
            done = city_deal().start_toetreding(
                applicant=values.get('applicant', ''), kind=values.get('kind', ''),
                representative=values.get('representative', ''), contribution=values.get('contribution', ''),
                endorses_goals=request.form.get('endorses_goals') == 'on', email=values.get('email') or None,
                confidential=request.form.get('confidential') == 'on')
        except CommandRefused as refused:
            errors = by_field(refused)
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
    number = listing.page_number()
    page = Page(app.audit_page(offset=listing.offset(number), **_audit_filters()), number)
    return render_template('audit.html', page=page, entries=page.rows, verdict=app.verify_audit(),
                           filters={k: request.args.get(k, '') for k in AUDIT_FILTERS}, types=PROCEDURE_TYPES,
                           parties=app.parties())


@blueprint.route('/audit/export.<fmt>')
@login_required
def audit_export(fmt):
    """The audit as a file: JSON as stored; CSV for a spreadsheet, in Dutch, one column per data field.

    CSV is `;`-separated with a UTF-8 BOM (what Dutch Excel opens as columns); ``?format=rfc4180`` gives
    comma-separated RFC 4180 without a BOM, for other programs.
    """
    require('auditor')
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
    body = audit_csv.render(entries, rfc4180=dialect == 'rfc4180')
    return Response(body, mimetype='text/csv; charset=utf-8',
                    headers={'Content-Disposition': 'attachment; filename=audit.csv'})


@blueprint.route('/toegankelijkheid')
def accessibility():
    return render_template('accessibility.html')


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
        from engine.unit_of_work import Actor
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
        raise CommandRefused.one(field, 'is not a date') from None
