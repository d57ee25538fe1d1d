"""Documents in the record: recognised by their content, stored once by SHA-256, hashed in the audit
chain, downloaded only by those who may see them, and rehashed by `audit verify`."""
import hashlib
import io
import os
import zipfile

import pytest
from sqlalchemy import text

from engine import documents
from engine.errors import CommandRefused, NotFound
from engine.unit_of_work import Actor
from tests.conftest import command_line, consent_all, open_consultation, snapshot, start_amendment
from tests.web_support import browser

BZK = Actor('mevrouw K. Ollongren', 'bzk')


def _zip(entries, first_stored=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as archive:
        if first_stored:
            archive.writestr(zipfile.ZipInfo(first_stored[0]), first_stored[1], compress_type=zipfile.ZIP_STORED)
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


PDF = b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'
ODT = _zip([('content.xml', '<office:document-content/>')], ('mimetype', documents.ODT))
ODS = _zip([('content.xml', '<office:document-content/>')], ('mimetype', documents.ODS))
DOCX = _zip([('[Content_Types].xml', '<Types/>'), ('_rels/.rels', '<Relationships/>'),
             ('word/document.xml', '<w:document/>')])
XLSX = _zip([('[Content_Types].xml', '<Types/>'), ('_rels/.rels', '<Relationships/>'),
             ('xl/workbook.xml', '<workbook/>')])
TEXT = 'Werkplan 2022\nÉén regel met € en ë.\n'.encode('utf-8')
EXE = b'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00' + b'\x00' * 48 + b'PE\x00\x00' + b'\x01' * 200


@pytest.fixture
def store(app):
    return app.documents


def files_in(store):
    return sorted(p.name for p in store.root.rglob('*') if p.is_file()) if store.root.exists() else []


@pytest.mark.parametrize('name, content, media_type', [
    ('werkplan.pdf', PDF, documents.PDF), ('brief.odt', ODT, documents.ODT), ('begroting.ods', ODS, documents.ODS),
    ('plan.docx', DOCX, documents.DOCX), ('begroting.xlsx', XLSX, documents.XLSX),
    ('notitie.txt', TEXT, documents.TEXT),
    # the content decides, not the name
    ('zonder-extensie', PDF, documents.PDF), ('werkplan.pdf', DOCX, documents.DOCX)])
def test_an_allowed_document_is_stored_by_its_hash_and_recorded(app, store, name, content, media_type):
    added = app.add_document(name, content)
    digest = hashlib.sha256(content).hexdigest()
    assert added == {'id': 1, 'name': name, 'media_type': media_type, 'size': len(content), 'sha256': digest}
    assert store.path(digest).read_bytes() == content
    assert not os.stat(store.path(digest)).st_mode & 0o222, 'a stored file is never written again'
    entry = app.audit()[-1]
    assert entry['event'] == 'document_added' and entry['data']['sha256'] == digest
    assert app.verify_documents().ok and app.verify_audit().ok
    assert app.document(1) == (added, content)


REFUSED = [
    ('setup.pdf', EXE, 'a Windows program (application/x-msdownload), not an allowed document'),
    ('leeg.pdf', b'', 'the file is empty'),
    ('groot.txt', b'a' * (documents.MAX_BYTES + 1), 'at most 20 MB'),
    ('archief.zip', _zip([('a.txt', 'x')]), 'a zip archive, not an allowed document'),
    ('dia.odp', _zip([('content.xml', '<x/>')], ('mimetype', 'application/vnd.oasis.opendocument.presentation')),
     'of ODF only text (odt) and spreadsheets (ods)'),
    ('foto.txt', b'\x89PNG\r\n\x1a\n' + b'\x00' * 100, 'image/png'),
    ('latin1.txt', 'café'.encode('latin-1'), 'not UTF-8'),
    ('kapot.docx', b'PK\x03\x04' + b'\x00' * 40, 'cannot be read as one'),
]


@pytest.mark.parametrize('name, content, says', REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_file_names_the_field_and_nothing_is_stored(app, store, name, content, says):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        app.add_document(name, content)
    [problem] = refused.value.problems
    assert problem.field == 'document' and says in problem.message(), problem.message()
    assert snapshot(app) == before
    assert files_in(store) == []


def test_the_same_bytes_are_one_file_never_overwritten(app, store):
    first = app.add_document('a.txt', TEXT)
    path = store.path(first['sha256'])
    inode = os.stat(path).st_ino
    second = app.add_document('b.txt', TEXT)
    assert (second['id'], second['sha256']) == (2, first['sha256'])
    assert os.stat(path).st_ino == inode and files_in(store) == [first['sha256']]


def test_attach_puts_documents_on_a_procedure_in_one_audited_step(app):
    pid = start_amendment(app)
    other = start_amendment(app, by='utrecht')
    doc = app.add_document('werkplan.pdf', PDF)
    with app.unit_of_work() as uow:
        attached = documents.attach(uow.session, uow.now, BZK, [doc['id']], pid, 'request')
        uow.commit()
    assert [d.id for d in attached] == [doc['id']]
    entry = app.audit()[-1]
    assert entry['event'] == 'document_attached' and entry['procedure_id'] == pid
    assert entry['data'] == {'purpose': 'request', 'documents': [{'id': doc['id'], 'sha256': doc['sha256'],
                                                                  'name': 'werkplan.pdf'}]}
    with app.unit_of_work() as uow:
        assert documents.of_procedure(uow.session, pid) == [doc]
        for ids, says in (([doc['id']], 'belongs to procedure'), ([99], 'no document with id 99')):
            with pytest.raises(CommandRefused) as refused:
                documents.attach(uow.session, uow.now, BZK, ids, other, 'request')
            assert refused.value.problems[0].field == 'document' and says in refused.value.problems[0].message()


def test_verify_rehashes_every_file_and_names_a_changed_or_missing_one(app, store):
    kept = app.add_document('a.txt', TEXT)
    changed = app.add_document('b.pdf', PDF)
    missing = app.add_document('c.docx', DOCX)
    assert app.verify_documents().ok
    path = store.path(changed['sha256'])
    path.chmod(0o640)
    path.write_bytes(PDF.replace(b'Catalog', b'Catalox'))
    store.path(missing['sha256']).unlink()
    verdict = app.verify_documents()
    assert not verdict.ok and verdict.files == 3
    assert [p.split(' (')[0] for p in verdict.problems] == [f"document {changed['id']}", f"document {missing['id']}"]
    assert 'was changed' in verdict.problems[0] and 'is missing' in verdict.problems[1]
    assert kept['sha256'] not in ' '.join(verdict.problems)
    with pytest.raises(CommandRefused, match='missing from the store'):
        app.document(missing['id'])


def test_a_hash_changed_in_the_table_is_caught(app):
    doc = app.add_document('a.txt', TEXT)
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE documents SET sha256 = :h WHERE id = :id"), {'h': 'a' * 64, 'id': doc['id']})
    assert not app.verify_documents().ok


# --- the API --------------------------------------------------------------------------------------------


def upload(api, who, name, content, field='file'):
    """A multipart body built here, in memory: werkzeug's test client would spool a large one to a
    temporary file that nobody closes."""
    boundary = 'grens-7203-2021'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            'Content-Type: application/octet-stream\r\n\r\n').encode() + content + f'\r\n--{boundary}--\r\n'.encode()
    return api('POST', '/api/v1/documenten', who, data=body,
               content_type=f'multipart/form-data; boundary={boundary}')


def test_api_upload_and_download(api, app):
    done = upload(api, 'zeist', 'werkplan.pdf', PDF)
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body == {'id': 1, 'name': 'werkplan.pdf', 'media_type': documents.PDF, 'size': len(PDF),
                    'sha256': hashlib.sha256(PDF).hexdigest()}
    assert done.headers['Location'] == '/api/v1/documenten/1'
    got = api('GET', '/api/v1/documenten/1', 'zeist')
    assert got.status_code == 200 and got.data == PDF and got.mimetype == documents.PDF
    assert 'werkplan.pdf' in got.headers['Content-Disposition']
    # Not yet attached: its party and auditors only; the public never.
    assert api('GET', '/api/v1/documenten/1', 'auditor').status_code == 200
    assert api('GET', '/api/v1/documenten/1', 'tiwos').status_code == 404
    assert api('GET', '/api/v1/documenten/1').status_code == 404
    assert api('GET', f'/api/v1/documenten/{2 ** 70}', 'zeist').status_code == 404
    assert api('GET', '/api/v1/documenten/1', headers={'Authorization': 'Bearer nope'}).status_code == 401
    assert upload(api, 'auditor', 'a.pdf', PDF).status_code == 403
    assert upload(api, None, 'a.pdf', PDF).status_code == 401


def test_api_refusals_name_the_field_and_store_nothing(api, app):
    assert api('GET', '/api/v1/partijen', 'zeist').status_code == 200  # its token exists before the snapshot
    before = snapshot(app)
    for name, content in (('setup.pdf', EXE), ('leeg.txt', b'')):
        refused = upload(api, 'zeist', name, content)
        assert refused.status_code == 400 and refused.mimetype == 'application/problem+json'
        assert [p['name'] for p in refused.get_json()['invalid-params']] == ['document']
    missing = upload(api, 'zeist', 'a.pdf', PDF, field='other')
    assert missing.status_code == 400 and missing.get_json()['invalid-params'][0]['name'] == 'document'
    large = upload(api, 'zeist', 'groot.txt', b'a' * (documents.MAX_BYTES + 100 * 1024))
    assert large.status_code == 413 and large.get_json()['invalid-params'][0]['name'] == 'document'
    assert snapshot(app) == before
    assert files_in(app.documents) == []


def test_a_document_just_under_the_limit_passes_the_web_limit(api, app):
    """MAX_CONTENT_LENGTH stays 256 kB for every other route; the upload route allows 20 MB."""
    content = b'a' * documents.MAX_BYTES
    assert upload(api, 'zeist', 'groot.txt', content).status_code == 201
    other = api('POST', '/api/v1/procedures', 'zeist', data=b'{"type": "wijziging", "text": "' + b'a' * 300_000 + b'"}',
                content_type='application/json')
    assert other.status_code == 413


def test_the_web_download_obeys_the_same_rights(app, site):
    doc = app.add_document('werkplan.pdf', PDF, actor=Actor('de heer W. Catsburg', 'zeist'))
    assert site.test_client().get(f"/documenten/{doc['id']}").status_code == 302, 'the public: to the login'
    zeist, tiwos = browser(site, 'zeist'), browser(site, 'tiwos')
    got = zeist.get(f"/documenten/{doc['id']}")
    assert got.status_code == 200 and got.data == PDF and 'attachment' in got.headers['Content-Disposition']
    assert tiwos.get(f"/documenten/{doc['id']}").status_code == 404


def test_a_file_changed_or_missing_on_disk_is_never_served_as_the_record(api, app, store, site):
    from engine.errors import Damaged
    doc = app.add_document('werkplan.pdf', PDF, actor=Actor('de heer W. Catsburg', 'zeist'))
    path = store.path(doc['sha256'])
    path.chmod(0o600)
    path.write_bytes(PDF + b'%tampered\n')
    with pytest.raises(Damaged) as damaged:
        app.document(doc['id'])
    assert damaged.value.problems[0].code == 'document.file_changed'
    answer = api('GET', f"/api/v1/documenten/{doc['id']}", 'zeist')
    assert answer.status_code == 500 and answer.get_json()['invalid-params'][0]['code'] == 'document.file_changed'
    zeist = browser(site, 'zeist')
    assert zeist.get(f"/documenten/{doc['id']}").status_code == 500
    path.unlink()
    answer = api('GET', f"/api/v1/documenten/{doc['id']}", 'zeist')
    assert answer.status_code == 500 and answer.get_json()['invalid-params'][0] == {
        'name': 'document', 'code': 'document.file_missing', 'reason': answer.get_json()['invalid-params'][0]['reason']}
    assert str(store.root) not in answer.get_data(as_text=True)  # the server's folders are not told


def test_the_commands(databases, tmp_path):
    env = {'CITYDEAL_DATABASE_URL': databases.new(), 'CITYDEAL_NOW': '2021-04-12T10:00:00+02:00',
           'PATH': '/usr/bin:/bin'}
    citydeal = command_line(env, tmp_path)

    citydeal('init')
    (tmp_path / 'plan.odt').write_bytes(ODT)
    (tmp_path / 'setup.pdf').write_bytes(EXE)
    added = __import__('json').loads(citydeal('documents', 'add', 'plan.odt', '--json').stdout)
    assert added['media_type'] == documents.ODT and added['sha256'] == hashlib.sha256(ODT).hexdigest()
    refused = citydeal('documents', 'add', 'setup.pdf', expect=2)
    assert 'error: document: the file is a Windows program' in refused.stderr
    assert 'error: procedure: no procedure with id 9' in citydeal('documents', 'add', 'plan.odt', '--procedure', '9',
                                                                  expect=2).stderr
    citydeal('documents', 'get', str(added['id']), '-o', 'terug.odt')
    assert (tmp_path / 'terug.odt').read_bytes() == ODT
    assert 'documents: 1 file(s), each matches its SHA-256' in citydeal('audit', 'verify').stdout
    stored = tmp_path / 'var' / 'documents' / added['sha256'][:2] / added['sha256']
    stored.chmod(0o640)
    stored.write_bytes(ODT + b'!')
    failed = citydeal('audit', 'verify', expect=1)
    assert f"document {added['id']} (plan.odt) was changed" in failed.stdout


def test_public_downloads_only_for_public_bijlagen(api, app):
    open_pid = start_amendment(app)
    secret_pid = start_amendment(app, by='utrecht', confidential=True)
    ids = {}
    for pid in (open_pid, secret_pid):
        doc = app.add_document(f'{pid}.pdf', PDF.replace(b'1.4', f'1.{pid}'.encode()))
        with app.unit_of_work() as uow:
            documents.attach(uow.session, uow.now, BZK, [doc['id']], pid, 'request')
            uow.commit()
        ids[pid] = doc['id']
    # Running: logged-in people see both (they see every procedure), the public neither.
    for pid in (open_pid, secret_pid):
        assert api('GET', f'/api/v1/documenten/{ids[pid]}', 'tiwos').status_code == 200
        assert api('GET', f'/api/v1/documenten/{ids[pid]}').status_code == 404
    for pid in (open_pid, secret_pid):
        open_consultation(app, pid)
        consent_all(app, pid)
    assert len(app.appendices()) == 2
    assert api('GET', f'/api/v1/documenten/{ids[open_pid]}').status_code == 200
    assert api('GET', f'/api/v1/documenten/{ids[secret_pid]}').status_code == 404, 'confidential: never public'
    assert api('GET', f'/api/v1/documenten/{ids[secret_pid]}', 'tiwos').status_code == 200
    with pytest.raises(NotFound):
        app.document(ids[secret_pid], viewer=None)
