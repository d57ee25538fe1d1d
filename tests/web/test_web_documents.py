"""Files sent with the web's forms: with a request, with an answer (on the confirm page, whose POST is the
command), with a revised answer and with a yearly cycle's plans; refused files named at the field, nothing
stored; a body over the limit a 413 that names the limit."""
import html as entities
import io
import re

import pytest

from engine import documents
from tests.conftest import open_consultation, snapshot, start_amendment, start_procedure
from tests.integration.test_documents import DOCX, EXE, ODT, PDF, TEXT, XLSX, _zip, files_in
from tests.web.test_web import browser, task_id, visible_text
from web import uploads

AMENDMENT = {'title': 'Werklijn 5: warmte', 'text': 'Voeg werklijn 5 toe.', 'motivation': 'Nieuwe inzichten.'}
#: a Word file with macros (a docm), named docx
DOCM = _zip([('[Content_Types].xml', '<Types/>'), ('_rels/.rels', '<Relationships/>'),
             ('word/document.xml', '<w:document/>'), ('word/vbaProject.bin', b'\xd0\xcf\x11\xe0VBA')])


def files(*named):
    """The field ``document`` of a form, as a browser sends the files chosen in it."""
    return {'document': [(io.BytesIO(content), name) for name, content in named]}


def file_field(html):
    found = re.search(r'<input id="document" name="document" type="file" multiple accept="([^"]+)"', html)
    return found and found.group(1)


def stored(app):
    """Every row and every file: what a refused form must leave as it was."""
    return snapshot(app), files_in(app.documents)


# --- a request -------------------------------------------------------------------------------------------------
def test_a_request_started_on_the_web_carries_its_documents(site, app):
    zeist = browser(site, 'zeist')
    form = zeist.get('/procedures/nieuw/wijziging').get_data(as_text=True)
    assert '<form method="post" enctype="multipart/form-data">' in form
    accept = file_field(form)
    assert accept and all(kind in accept.split(',') for kind in ('.pdf', '.odt', '.ods', '.docx', '.xlsx', '.txt'))
    hint = visible_text(form)
    assert 'Toegestaan: PDF, ODF (odt, ods), OOXML (docx, xlsx) en platte tekst.' in hint
    assert 'Elk bestand is ten hoogste 20 MB.' in hint
    done = zeist.post('/procedures/nieuw/wijziging', dict(AMENDMENT, **files(('toelichting.pdf', PDF),
                                                                             ('begroting.xlsx', XLSX))))
    assert done.status_code == 302, visible_text(done.get_data(as_text=True))
    pid = int(done.headers['Location'].rsplit('/', 1)[1])
    shown = app.procedure_view(pid)['documents']
    assert [(d['name'], d['purpose'], d['media_type']) for d in shown] == [
        ('toelichting.pdf', 'request', documents.PDF), ('begroting.xlsx', 'request', documents.XLSX)]
    page = zeist.get(f'/procedures/{pid}').get_data(as_text=True)
    for d in shown:
        assert f'<a href="/documenten/{d["id"]}" download>{d["name"]}</a>' in page
    assert zeist.get(f'/documenten/{shown[0]["id"]}').data == PDF


def test_the_start_pages_offer_files_only_where_the_engine_takes_them(site):
    leader = browser(site, 'projectleider')
    for kind, takes in (('wijziging', True), ('opzegging', True), ('jaarcyclus', False)):
        html = leader.get(f'/procedures/nieuw/{kind}').get_data(as_text=True)
        assert bool(file_field(html)) is takes and ('multipart/form-data' in html) is takes, kind
    html = browser(site, 'zeist').get('/procedures/nieuw/geheimhouding?procedure=1').get_data(as_text=True)
    assert file_field(html)


@pytest.mark.rule('Received: projectleider and secretaris register a paper document for a party, with its received date')
def test_the_secretaris_registers_a_paper_request_with_the_letter_itself(site, app):
    done = browser(site, 'secretaris').post('/procedures/nieuw/wijziging', dict(
        AMENDMENT, by='zayaz', received='2021-04-09', **files(('brief-zayaz.pdf', PDF))))
    assert done.status_code == 302, visible_text(done.get_data(as_text=True))
    pid = int(done.headers['Location'].rsplit('/', 1)[1])
    assert [d['name'] for d in app.procedure_view(pid)['documents']] == ['brief-zayaz.pdf']


# --- refusals: at the field, everything typed kept, nothing stored ------------------------------------------------
REFUSED = [
    ('setup.pdf', EXE, 'setup.pdf: Dit soort bestand is niet toegestaan (een Windows-programma'),
    ('leeg.pdf', b'', 'leeg.pdf: Het bestand is leeg'),
    ('archief.zip', _zip([('a.txt', 'x')]), 'archief.zip: Dit soort bestand is niet toegestaan (een zip-archief'),
    ('plan.docx', DOCM, "plan.docx: Dit Office-bestand bevat macro's"),
]


@pytest.mark.rule('One command = one transaction')
@pytest.mark.parametrize('name, content, says', REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_file_is_named_at_its_field_and_nothing_is_stored(site, app, name, content, says):
    zeist = browser(site, 'zeist')
    before = stored(app)
    page = zeist.post('/procedures/nieuw/wijziging', dict(AMENDMENT, **files(('goed.pdf', PDF), (name, content))))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    error = entities.unescape(visible_text(re.search(r'<p class="error" id="document-error">.*?</p>', html,
                                                     re.S).group(0)))
    assert says in error and 'goed.pdf' not in error
    assert 'aria-describedby="document-hint document-error" aria-invalid="true"' in html
    assert '<a href="#document">Document</a>' in html  # the summary links to the field
    assert 'value="Werklijn 5: warmte"' in html and 'Voeg werklijn 5 toe.</textarea>' in html
    assert f'De gekozen bestanden zijn niet opgeslagen: goed.pdf, {name}.' in visible_text(html)
    assert stored(app) == before and app.procedures() == []


def test_a_refused_file_is_shown_with_every_other_field_refused(site, app):
    zeist = browser(site, 'zeist')
    before = stored(app)
    page = zeist.post('/procedures/nieuw/wijziging', dict(text='Voeg toe.', **files(('setup.pdf', EXE))))
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="title-error"' in html and 'id="document-error"' in html
    assert stored(app) == before


def test_a_file_over_20_mb_is_refused_at_the_field(site, app):
    zeist = browser(site, 'zeist')
    token = zeist.token('/procedures/nieuw/wijziging')
    before = stored(app)
    body, content_type = multipart(dict(AMENDMENT, csrf_token=token), 'groot.txt', b'a' * (documents.MAX_BYTES + 1))
    page = zeist.client.post('/procedures/nieuw/wijziging', data=body, content_type=content_type)
    assert page.status_code == 422
    assert 'groot.txt: Het bestand is 20,0 MB; ten hoogste 20 MB is toegestaan.' in visible_text(
        page.get_data(as_text=True))
    assert stored(app) == before


def multipart(fields, name, content):
    """A form with one large file, built here in memory: the test client would spool it to a temporary file
    that nobody closes."""
    boundary = 'grens-7203-2021'
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="document"; filename="{name}"\r\n'
                 'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b'\r\n')
    return b''.join(parts) + f'--{boundary}--\r\n'.encode(), f'multipart/form-data; boundary={boundary}'


def test_a_body_over_the_limit_is_a_413_that_names_the_limit(site, app, monkeypatch):
    zeist = browser(site, 'zeist')
    token = zeist.token('/procedures/nieuw/wijziging')
    monkeypatch.setattr(uploads, 'BODY_LIMIT', 64 * 1024)  # five files of 20 MB, made small for the test
    before = stored(app)
    body, content_type = multipart(dict(AMENDMENT, csrf_token=token), 'groot.pdf', PDF + b'%' * (100 * 1024))
    page = zeist.client.post('/procedures/nieuw/wijziging', data=body, content_type=content_type)
    assert page.status_code == 413
    assert 'Een document mag ten hoogste 20 MB zijn' in visible_text(page.get_data(as_text=True))
    assert stored(app) == before
    # A text beside the files keeps the limit of every form, and its own words.
    body, content_type = multipart(dict(AMENDMENT, csrf_token=token, text='x' * (300 * 1024)), 'a.pdf', PDF)
    monkeypatch.setattr(uploads, 'BODY_LIMIT', 5 * documents.MAX_BYTES)
    long_text = zeist.client.post('/procedures/nieuw/wijziging', data=body, content_type=content_type)
    assert long_text.status_code == 413 and 'Maak de tekst korter.' in visible_text(long_text.get_data(as_text=True))
    assert stored(app) == before
    # Other forms keep their small limit, and their own words.
    other = zeist.client.post('/delegeren', data={'csrf_token': token, 'deputy': 'x' * (300 * 1024)})
    assert other.status_code == 413 and 'Maak de tekst korter.' in visible_text(other.get_data(as_text=True))


def test_the_api_answers_a_file_over_20_mb_with_413(api, app):
    from tests.integration.test_documents import upload
    assert api('GET', '/api/v1/partijen', 'zeist').status_code == 200  # its token exists before the snapshot
    before = stored(app)
    large = upload(api, 'zeist', 'groot.txt', b'a' * (documents.MAX_BYTES + 1))
    assert large.status_code == 413 and large.mimetype == 'application/problem+json'
    assert large.get_json()['invalid-params'][0]['code'] == 'document.too_large'
    assert stored(app) == before


# --- an answer, through the confirm step -------------------------------------------------------------------------
@pytest.mark.rule('Wijzigingen lid 3: amendment and consent statements become a bijlage')
def test_a_consent_takes_its_files_on_the_confirm_page(site, app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    zeist = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    form = zeist.get(f'/taken/{task}').get_data(as_text=True)
    assert not file_field(form) and 'voegt u toe in de volgende stap, bij het bevestigen' in visible_text(form)
    answer = {'decision': 'consent', 'statement': 'Zeist stemt in.'}
    confirm = zeist.post(f'/taken/{task}', answer).get_data(as_text=True)
    assert file_field(confirm) and 'enctype="multipart/form-data"' in confirm
    before = stored(app)
    refused = zeist.post(f'/taken/{task}/bevestigen', dict(answer, **files(('besluit.pdf', EXE))),
                         token_from=f'/taken/{task}')
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'Bevestigen en vastleggen' in html, 'the confirm page again'
    assert 'besluit.pdf: Dit soort bestand is niet toegestaan' in visible_text(html)
    assert '<input type="hidden" name="statement" value="Zeist stemt in.">' in html
    assert stored(app) == before and app.tasks(party='zeist')
    done = zeist.post(f'/taken/{task}/bevestigen', dict(answer, **files(('besluit.odt', ODT), ('notitie.txt', TEXT))),
                      token_from=f'/taken/{task}')
    assert done.status_code == 302 and '/ontvangstbewijs/' in done.headers['Location']
    shown = app.procedure_view(pid)['documents']
    assert [(d['name'], d['purpose'], d['uploaded_for']) for d in shown] == [
        ('besluit.odt', 'statement', 'zeist'), ('notitie.txt', 'statement', 'zeist')]
    receipt = zeist.get(done.headers['Location']).get_data(as_text=True)
    for d in shown:
        assert f'<a href="/documenten/{d["id"]}" download>{d["name"]}</a>' in receipt
    assert zeist.get(f'/documenten/{shown[1]["id"]}').data == TEXT


def test_a_task_without_files_has_no_file_field_and_refuses_them(site, app):
    pid = start_amendment(app)
    [opening] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == pid]
    leader = browser(site, 'projectleider')
    confirm = leader.post(f"/taken/{opening['id']}", {}).get_data(as_text=True)
    assert 'Bevestigen en vastleggen' in confirm and not file_field(confirm) and 'multipart' not in confirm
    before = stored(app)
    sent = leader.post(f"/taken/{opening['id']}/bevestigen", files(('brief.pdf', PDF)), token_from='/taken')
    assert sent.status_code == 422 and 'Bij deze stap horen geen documenten.' in visible_text(sent.get_data(as_text=True))
    assert stored(app) == before


@pytest.mark.rule('Consent round: an answer can be revised while the round is open')
def test_a_revised_answer_takes_its_files(site, app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    zeist = browser(site, 'zeist')
    task = task_id(app, 'zeist')
    assert zeist.post(f'/taken/{task}/bevestigen', {'decision': 'objection', 'statement': 'Te duur.'},
                      token_from=f'/taken/{task}').status_code == 302
    form = zeist.get(f'/taken/{task}/herzien').get_data(as_text=True)
    assert file_field(form) and 'enctype="multipart/form-data"' in form
    before = stored(app)
    refused = zeist.post(f'/taken/{task}/herzien', dict(decision='consent', statement='Na overleg akkoord.',
                                                        **files(('akkoord.docx', DOCM))))
    assert refused.status_code == 422 and 'id="document-error"' in refused.get_data(as_text=True)
    assert stored(app) == before
    done = zeist.post(f'/taken/{task}/herzien', dict(decision='consent', statement='Na overleg akkoord.',
                                                     **files(('akkoord.docx', DOCX))))
    assert done.status_code == 302
    [document] = app.procedure_view(pid)['documents']
    assert (document['name'], document['purpose']) == ('akkoord.docx', 'statement')
    receipt = zeist.get(done.headers['Location']).get_data(as_text=True)
    assert f'<a href="/documenten/{document["id"]}" download>akkoord.docx</a>' in receipt


# --- the yearly cycle's plans ------------------------------------------------------------------------------------
@pytest.mark.rule('Jaarcyclus: coalitieoverleg adopts werkplan, communicatieplan and begroting')
def test_the_plans_of_the_yearly_cycle_go_with_their_task(site, app):
    pid = start_procedure(app, 'jaarcyclus', by='projectleider', year=2021)['id']
    [plans] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == pid
               and registry_purpose(t) == 'werkplan, communicatieplan, begroting']
    leader = browser(site, 'projectleider')
    values = {'werkplan_concept': 'Werkplan 2021', 'communicatieplan_concept': 'Communicatie 2021',
              'begroting_concept': 'Begroting 2021'}
    confirm = leader.post(f"/taken/{plans['id']}", values).get_data(as_text=True)
    assert file_field(confirm)
    done = leader.post(f"/taken/{plans['id']}/bevestigen",
                       dict(values, **files(('werkplan-2021.odt', ODT), ('begroting-2021.xlsx', XLSX))),
                       token_from='/taken')
    assert done.status_code == 302, visible_text(done.get_data(as_text=True))
    shown = app.procedure_view(pid)['documents']
    assert [(d['name'], d['purpose']) for d in shown] == [
        ('werkplan-2021.odt', 'werkplan, communicatieplan, begroting'),
        ('begroting-2021.xlsx', 'werkplan, communicatieplan, begroting')]
    receipt = visible_text(leader.get(done.headers['Location']).get_data(as_text=True))
    assert 'Documenten werkplan-2021.odt' in receipt and 'begroting-2021.xlsx' in receipt
    page = visible_text(leader.get(f'/procedures/{pid}').get_data(as_text=True))
    assert 'werkplan-2021.odt' in page and 'Doel: werkplan, communicatieplan en begroting' in page


def registry_purpose(task):
    """What a task's form takes files for, as the engine declares it (no task name written here)."""
    from engine import procedures as registry
    return registry.form(task['procedure_type'], task['name']).document_purpose
