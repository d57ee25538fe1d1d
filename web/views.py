"""The pages. Each view checks who may do what, calls one engine operation, and renders."""
import csv
import io
import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import forms as task_forms
from engine.audit import parse_anchor
from engine.deal_file import PARTY_KINDS
from engine.errors import CommandRefused, NotFound
from web import diagram
from web.auth import acting_for, city_deal, require, tasks_for
from web.messages import by_field, translate

blueprint = Blueprint('views', __name__)
PROCEDURE_TYPES = ('wijziging', 'toetreding', 'opzegging', 'jaarcyclus', 'voortzetting')


@blueprint.app_context_processor
def _header():
    count = len(_my_tasks()) if current_user.is_authenticated else 0
    return {'task_count': count, 'today': city_deal().today()}


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


def _task_or_404(task_id):
    try:
        task = city_deal().task(task_id)
    except NotFound:
        abort(404)
    except CommandRefused as refused:
        answer = city_deal().answered_task(task_id)
        if answer is None or not (answer['party'] in current_user.acts_for or current_user.is_auditor):
            abort(403)
        raise TaskClosed(answer, translate(refused.problems[0].message)) from None
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
        try:
            city_deal().check_task_values(task_id, acting_for, values, person=current_user.name)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return render_template('confirm.html', task=task, fields=fields, values=values)
    return render_template('task.html', task=task, fields=fields, values=values, errors=errors), \
        422 if errors else 200


@blueprint.route('/taken/<task_id>/bevestigen', methods=['POST'])
@login_required
def confirm(task_id):
    task, acting_for = _task_or_404(task_id)
    fields = task_forms.describe(task['procedure_type'], task['name'])
    values = _form_values([f.name for f in fields])
    try:
        result = city_deal().complete(task_id, acting_for, values, person=current_user.name)
    except CommandRefused as refused:
        return render_template('task.html', task=task, fields=fields, values=values, errors=by_field(refused)), 422
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
    errors, values = {}, {}
    if kind in ('wijziging', 'opzegging'):
        require(party=True)
    elif kind in ('jaarcyclus', 'voortzetting'):
        require('projectleider')
    else:
        abort(404)
    if request.method == 'POST':
        values = _form_values(START_FIELDS.get(kind, ()) + ('year', 'party'))
        confidential = request.form.get('confidential') == 'on'
        try:
            if kind == 'wijziging':
                result = app.start_wijziging(by=_acting_party(), title=values.get('title', ''),
                                             text=values.get('text', ''), motivation=values.get('motivation') or None,
                                             new_end_date=values.get('new_end_date') or None,
                                             person=current_user.name, confidential=confidential)
            elif kind == 'opzegging':
                if request.form.get('understood') != 'on':
                    raise CommandRefused.one('understood', _('Bevestig dat u de deelname wilt opzeggen.'))
                result = app.start_opzegging(by=_acting_party(), circumstances=values.get('circumstances', ''),
                                             person=current_user.name, confidential=confidential)
            elif kind == 'jaarcyclus':
                result = app.start_jaarcyclus(year=values.get('year', ''), person=current_user.name)
            else:
                result = app.start_voortzetting(person=current_user.name)
        except CommandRefused as refused:
            errors = by_field(refused)
        else:
            return redirect(url_for('views.procedure', procedure_id=result['id']))
    return render_template(f'start_{kind}.html', values=values, errors=errors), 422 if errors else 200


@blueprint.route('/toetreden', methods=['GET', 'POST'])
def accession():
    errors, values, done = {}, {}, None
    if request.method == 'POST':
        values = _form_values(('applicant', 'kind', 'representative', 'email', 'contribution'))
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
    require('auditor')
    app = city_deal()
    filters = _audit_filters()
    anchor_text, anchor, anchor_error = request.args.get('anchor', '').strip()[:200], None, None
    if anchor_text:
        try:
            anchor = parse_anchor(anchor_text)
        except CommandRefused:
            anchor_error = _('Vul de kop in zoals die in een bericht staat: een getal, een dubbele punt en 64 '
                             'tekens (0-9, a-f), bijvoorbeeld 42:ab12….')
    return render_template('audit.html', entries=app.audit_search(**filters), verdict=app.verify_audit(anchor),
                           files=app.verify_documents(), anchor=anchor_text, anchor_used=anchor is not None,
                           anchor_error=anchor_error,
                           filters={k: request.args.get(k, '') for k in AUDIT_FILTERS}, types=PROCEDURE_TYPES,
                           parties=app.parties()), 422 if anchor_error else 200


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
