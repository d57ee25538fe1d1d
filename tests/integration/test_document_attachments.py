"""Files attached where a user attaches them: with a request (start) and with an answer (complete),
stored and attached in the command's own transaction; a refused file refuses the whole command."""
import hashlib

import pytest
from sqlalchemy import text

from citydeal.bootstrap import OPERATOR
from engine.errors import CommandRefused, NotFound
from engine.rights import Caller
from tests.conftest import command_line, one_task, open_consultation, snapshot
from tests.integration.test_documents import EXE, PDF, TEXT, files_in

AMENDMENT = {'title': 'Werklijn 5: warmte', 'text': 'Voeg werklijn 5 toe.',
             'motivation': 'Nieuwe inzichten uit de proeftuinen.'}


def _audit(app, event):
    with app.engine.connect() as db:
        return [row[0] for row in db.execute(text('SELECT data FROM audit_entries WHERE event = :e ORDER BY seq'),
                                             {'e': event})]


def test_a_start_stores_and_attaches_its_files_as_the_request(app):
    started = app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT,
                        files=[('motivering.pdf', PDF), ('notitie.txt', TEXT)])
    shown = app.show(started['id'])
    assert [(d['name'], d['sha256']) for d in shown['documents']] == [
        ('motivering.pdf', hashlib.sha256(PDF).hexdigest()), ('notitie.txt', hashlib.sha256(TEXT).hexdigest())]
    assert all(set(d) == {'id', 'name', 'media_type', 'size', 'sha256'} for d in shown['documents'])
    added = _audit(app, 'document_added')
    assert hashlib.sha256(PDF).hexdigest() in str(added) and "'purpose': 'request'" in str(added).replace('"', "'")


def test_an_exe_renamed_pdf_refuses_the_whole_start_and_nothing_is_stored(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT,
                  files=[('motivering.pdf', PDF), ('setup.pdf', EXE)])
    assert refused.value.problems[0].field == 'document'
    assert snapshot(app) == before
    assert app.procedures() == []
    assert files_in(app.documents) == []


def test_an_answer_attaches_its_files_as_the_statement(app):
    started = app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT)
    open_consultation(app, started['id'])
    task = one_task(app, party='zeist')
    app.complete(task['id'], Caller.operator_as('zeist', None), {'decision': 'consent', 'statement': 'Ja.'},
                 files=[('brief.pdf', PDF)])
    [document] = app.show(started['id'])['documents']
    assert document['name'] == 'brief.pdf'
    assert "'purpose': 'statement'" in str(_audit(app, 'document_added')).replace('"', "'")


def test_uploaded_ids_are_attached_and_others_refused(app):
    uploaded = app.add_document('brief.pdf', PDF)
    started = app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT, document_ids=[uploaded['id']])
    assert [d['id'] for d in app.show(started['id'])['documents']] == [uploaded['id']]
    assert _audit(app, 'document_attached')
    before = snapshot(app)
    with pytest.raises(NotFound):
        app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT, document_ids=[99])
    with pytest.raises(CommandRefused) as elsewhere:
        app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT, document_ids=[uploaded['id']])
    assert elsewhere.value.problems[0].field == 'document'
    assert snapshot(app) == before
    assert OPERATOR  # the operator uploads from the command line


def test_document_flags_on_start_and_complete(databases, tmp_path):
    import json
    env = {'CITYDEAL_DATABASE_URL': databases.new(), 'CITYDEAL_NOW': '2021-04-12T10:00:00+02:00',
           'PATH': '/usr/bin:/bin'}
    citydeal = command_line(env, tmp_path)

    citydeal('init')
    (tmp_path / 'motivering.pdf').write_bytes(PDF)
    (tmp_path / 'brief.txt').write_bytes(TEXT)
    (tmp_path / 'setup.pdf').write_bytes(EXE)
    refused = citydeal('start', 'wijziging', '--by', 'bzk', '--title', 'T', '--text', 'X', '--motivation', 'M',
                       '--document', 'motivering.pdf', '--document', 'setup.pdf', expect=2)
    assert 'document' in refused.stderr
    assert json.loads(citydeal('procedures', '--json').stdout) == []
    started = json.loads(citydeal('start', 'wijziging', '--by', 'bzk', '--title', 'T', '--text', 'X',
                                  '--motivation', 'M', '--document', 'motivering.pdf', '--json').stdout)
    tasks = json.loads(citydeal('tasks', '--role', 'projectleider', '--json').stdout)
    citydeal('complete', tasks[0]['id'], '--as', 'projectleider')
    [task] = json.loads(citydeal('tasks', '--party', 'zeist', '--json').stdout)
    citydeal('complete', task['id'], '--as', 'zeist', '--decision', 'consent', '--statement', 'Ja.',
             '--document', 'brief.txt')
    shown = json.loads(citydeal('show', str(started['id']), '--json').stdout)
    assert [(d['name'], d['sha256']) for d in shown['documents']] == [
        ('motivering.pdf', hashlib.sha256(PDF).hexdigest()), ('brief.txt', hashlib.sha256(TEXT).hexdigest())]


def test_the_api_attaches_uploaded_ids_to_a_start_and_an_answer(app, api):
    from tests.integration.test_documents import upload

    first = upload(api, 'zeist', 'motivering.pdf', PDF).get_json()['id']
    started = api('POST', '/api/v1/procedures', 'zeist', json=dict(AMENDMENT, type='wijziging', documents=[first]))
    assert started.status_code == 201, started.get_json()
    procedure_id = started.get_json()['id']
    assert [d['id'] for d in app.show(procedure_id)['documents']] == [first]
    open_consultation(app, procedure_id)
    task = one_task(app, party='tiwos')
    second = upload(api, 'tiwos', 'brief.txt', TEXT).get_json()['id']
    before = snapshot(app)
    bad = api('POST', f"/api/v1/taken/{task['id']}/beslissing", 'tiwos', json={'decision': 'consent', 'documents': [999]})
    assert bad.status_code in (400, 404) and snapshot(app) == before
    done = api('POST', f"/api/v1/taken/{task['id']}/beslissing", 'tiwos', json={'decision': 'consent',
                                                                                'documents': [second]})
    assert done.status_code == 201, done.get_json()
    assert [d['id'] for d in app.show(procedure_id)['documents']] == [first, second]
    assert api('POST', '/api/v1/procedures', 'zeist', json=dict(AMENDMENT, type='wijziging', documents='1')
               ).status_code == 400
    spec = api('GET', '/api/v1/openapi.json', 'zeist').get_json()
    assert 'documents' in spec['components']['schemas']['Beslissing']['properties']
    assert 'documents' in spec['components']['schemas']['NieuweWijziging']['properties']


def test_a_revised_answer_takes_its_files_and_a_refused_one_refuses_the_revision(app):
    pid = app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT)['id']
    open_consultation(app, pid)
    task = one_task(app, party='zeist')['id']
    app.complete(task, Caller.operator_as('zeist', None), {'decision': 'objection', 'statement': 'Te duur.'})
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        app.revise(task, Caller.operator_as('zeist', None), {'decision': 'consent'}, files=[('akkoord.pdf', EXE)])
    assert refused.value.problems[0].field == 'document' and snapshot(app) == before
    app.revise(task, Caller.operator_as('zeist', None), {'decision': 'consent'}, files=[('akkoord.pdf', PDF)])
    [document] = app.show(pid)['documents']
    assert document['name'] == 'akkoord.pdf'
    assert "'purpose': 'statement'" in str(_audit(app, 'document_added')).replace('"', "'")


def test_a_start_or_a_task_that_takes_no_files_refuses_them(app):
    """Where files go the engine declares (``document_purpose`` of the type's start and of each task form);
    the yearly cycle's start and the opening of a consultation take none."""
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        app.start('jaarcyclus', Caller.operator_as('projectleider', None), {'year': '2021'},
                  files=[('werkplan.pdf', PDF)])
    assert (refused.value.problems[0].code, refused.value.problems[0].field) == ('document.not_taken', 'document')
    assert snapshot(app) == before and files_in(app.documents) == []
    pid = app.start('wijziging', Caller.operator_as('bzk', None), AMENDMENT)['id']
    [opening] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == pid]
    with pytest.raises(CommandRefused) as refused:
        app.complete(opening['id'], Caller.operator_as('projectleider', None), {}, files=[('brief.pdf', PDF)])
    assert refused.value.problems[0].code == 'document.not_taken' and files_in(app.documents) == []
