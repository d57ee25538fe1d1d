"""Geheimhouding (Gegevenswisseling lid 1): a Party asks that texts be kept confidential; they are off the
public pages at once; the projectleider keeps them so or lifts it for a duty to disclose; the requester may
lift its own request."""
import pytest

from engine.errors import CommandRefused
from tests.conftest import complete_task, consent_all, one_task, open_consultation, snapshot, start_amendment, start_procedure
from tests.web_support import browser



@pytest.fixture
def adopted(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid)
    return pid


def _public(app):
    [appendix] = app.appendices(public=True)
    return appendix


def _events(app, pid):
    return [e['event'] for e in app.show(pid)['timeline']]


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_texts_are_off_the_public_pages_from_the_request_on(app, adopted, make_site):
    assert _public(app)['body'] is not None
    asked = start_procedure(app, 'geheimhouding', by='zeist', procedure=adopted, grounds='Bedrijfsgevoelige bedragen.')
    public = _public(app)
    assert public['number'] == 1 and public['title'] == 'Wijziging: Werklijn 5: warmte'  # still listed
    assert public['body'] is None and all(s['statement'] is None for s in public['statements'])
    [inside] = app.appendices()
    assert inside['confidential'] and inside['body'] and app.show(adopted)['confidential']  # parties see, marked
    assert 'confidentiality_requested' in _events(app, asked['id'])
    told = {m['to'] for m in app.outbox() if m['subject'].startswith('Verzoek om geheimhouding')}
    assert len(told) == 17 + 2  # every Party, the projectleider and the secretaris
    page = make_site().test_client().get('/openbaar').get_data(as_text=True)
    assert 'Werklijn 5: warmte' in page and 'Voeg werklijn 5 toe.' not in page


@pytest.mark.rule('Gegevenswisseling lid 1: kept unless the law, a court ruling or the deal requires disclosure')
def test_the_projectleider_keeps_it_or_lifts_it_with_a_reason(app, adopted):
    first = start_procedure(app, 'geheimhouding', by='zeist', procedure=adopted, grounds='Bedragen.')['id']
    task = one_task(app, 'geheimhouding_toetsen', role='projectleider')
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        complete_task(app, task['id'], 'projectleider', {'decision': 'lift'})
    assert [(p.field, p.code) for p in refused.value.problems] == [('reason', 'geheimhouding.lift_reason_required')]
    assert snapshot(app) == before
    done = complete_task(app, task['id'], 'projectleider', {'decision': 'keep'})
    assert done == dict(done, procedure_id=first, status='completed', outcome='kept')
    assert _public(app)['body'] is None
    # A Party asks about one statement only; the check finds a duty to disclose: public again.
    with pytest.raises(CommandRefused, match='already requested'):
        start_procedure(app, 'geheimhouding', by='weert', procedure=adopted, grounds='Nogmaals.')
    second = start_procedure(app, 'geheimhouding', by='weert', procedure=adopted, party='tilburg',
                             grounds='Persoonsgegevens in de verklaring.')['id']
    task = one_task(app, 'geheimhouding_toetsen', role='projectleider')
    done = complete_task(app, task['id'], 'projectleider', {'decision': 'lift', 'reason': 'Wob-verzoek toegekend.'})
    assert done['outcome'] == 'lifted' and _public(app)['body'] is None  # the first, kept, still protects
    assert {e['event'] for e in app.show(second)['timeline']} >= {'confidentiality_requested', 'confidentiality_lifted'}
    assert any(m['subject'].startswith('Geheimhouding opgeheven') for m in app.outbox())


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_only_the_requesting_party_lifts_its_own_request(app, adopted):
    asked = start_procedure(app, 'geheimhouding', by='zeist', procedure=adopted, party='tilburg',
                            grounds='Persoonsgegevens.')['id']
    tilburg = next(s for s in _public(app)['statements'] if s['party'] == 'tilburg')
    assert tilburg['statement'] is None and tilburg['confidential']
    assert all(s['statement'] for s in _public(app)['statements'] if s['party'] != 'tilburg')
    with pytest.raises(CommandRefused, match='no confidentiality request in force'):
        start_procedure(app, 'geheimhouding', by='bzk', procedure=adopted, party='tilburg', lift=True)
    lifted = start_procedure(app, 'geheimhouding', by='zeist', procedure=adopted, party='tilburg', lift=True)
    assert lifted['status'] == 'completed'
    assert app.show(asked)['status'] == 'cancelled' and app.tasks(role='projectleider') == []
    assert all(s['statement'] for s in _public(app)['statements'])


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_a_request_needs_grounds_a_procedure_and_a_statement_that_exists(app, adopted):
    before = snapshot(app)
    cases = [(dict(procedure=adopted), 'grounds'), (dict(procedure=999, grounds='x'), 'procedure'),
             (dict(procedure=adopted, party='eindhoven', grounds='x'), 'party'),
             (dict(procedure='één', grounds='x'), 'procedure'), (dict(grounds='x'), 'procedure')]
    for values, field in cases:
        with pytest.raises(CommandRefused) as refused:
            start_procedure(app, 'geheimhouding', by='zeist', **values)
        assert refused.value.problems[0].field == field, (values, refused.value.problems)
    assert snapshot(app) == before


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_asked_from_the_procedure_page_and_through_the_api(app, adopted, site):
    b = browser(site, 'zeist')
    page = b.get(f'/procedures/{adopted}').get_data(as_text=True)
    assert 'Geheimhouding vragen' in page and f'/procedures/nieuw/geheimhouding?procedure={adopted}' in page
    form = f'/procedures/nieuw/geheimhouding?procedure={adopted}'
    refused = b.post(form, {'procedure': str(adopted)}, token_from=form)
    assert refused.status_code == 422 and 'Geef de gronden' in refused.get_data(as_text=True)
    done = b.post(form, {'procedure': str(adopted), 'grounds': 'Bedragen.'}, token_from=form)
    assert done.status_code == 302 and _public(app)['body'] is None
    _, token = app.create_token('weert@deal.example')
    answer = site.test_client().post('/api/v1/procedures', json={'type': 'geheimhouding', 'procedure': adopted,
                                                                 'party': 'tilburg', 'grounds': 'Namen.'},
                                     headers={'Authorization': f'Bearer {token}'})
    assert answer.status_code == 201, answer.get_json()
    _, token = app.create_token('auditor@deal.example')
    answer = site.test_client().post('/api/v1/procedures', json={'type': 'geheimhouding', 'procedure': adopted,
                                                                 'grounds': 'x'},
                                     headers={'Authorization': f'Bearer {token}'})
    assert answer.status_code == 403


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_the_public_pdfs_and_documents_obey_a_request_for_confidentiality(app, api, make_site):
    from engine import appendix_pdf, documents
    from engine.unit_of_work import Actor
    pid = start_amendment(app)
    bzk, zeist = Actor('mevrouw K. Ollongren', 'bzk'), Actor('de heer W. Catsburg', 'zeist')
    request_doc = app.add_document('begroting.txt', 'Begroting 2022: EUR 10.000\n'.encode(), actor=bzk)
    zeist_doc = app.add_document('toelichting-zeist.txt', 'Zeist licht toe.\n'.encode(), actor=zeist)
    with app.unit_of_work() as uow:
        documents.attach(uow.session, uow.now, bzk, [request_doc['id']], pid, 'request')
        documents.attach(uow.session, uow.now, zeist, [zeist_doc['id']], pid, 'statement')
        uow.commit()
    open_consultation(app, pid)
    consent_all(app, pid)

    def public_html():
        with app.unit_of_work() as uow:
            return appendix_pdf.deal_html(uow.session, public=True)
    assert api('GET', '/api/v1/documenten/%d' % request_doc['id']).status_code == 200  # public before the request
    assert not app.appendix_confidential(1)

    # One party's statement: that statement's text and its documents are off the public files.
    start_procedure(app, 'geheimhouding', by='zeist', procedure=pid, party='zeist', grounds='Interne afweging.')
    html = public_html()
    assert 'Voeg werklijn 5 toe.' in html and 'utrecht stemt in' in html and 'zeist stemt in' not in html
    assert 'toelichting-zeist.txt' not in html and 'begroting.txt' in html
    assert app.appendix_confidential(1), 'the sealed PDF holds every statement in full: after login only'
    assert api('GET', '/api/v1/documenten/%d' % zeist_doc['id']).status_code == 404
    assert api('GET', '/api/v1/documenten/%d' % request_doc['id']).status_code == 200
    assert api('GET', '/api/v1/documenten/%d' % zeist_doc['id'], 'tiwos').status_code == 200  # parties still see
    anonymous = make_site().test_client()
    assert anonymous.get('/bijlagen/1.pdf').status_code == 302  # to the login
    assert anonymous.get('/documenten/%d' % zeist_doc['id']).status_code in (302, 404)
    assert anonymous.get('/deal.pdf').status_code == 200

    # The texts of the whole procedure: nothing of it in public, number and title still listed.
    start_procedure(app, 'geheimhouding', by='utrecht', procedure=pid, grounds='Bedrijfsgevoelige bedragen.')
    html = public_html()
    assert 'Werklijn 5: warmte' in html and 'Voeg werklijn 5 toe.' not in html and 'stemt in' not in html
    assert 'begroting.txt' not in html
    assert api('GET', '/api/v1/documenten/%d' % request_doc['id']).status_code == 404
