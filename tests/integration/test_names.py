"""Names cannot imitate another (issue 13): NFKC, no invisible or direction characters, lookalikes of a
party refused; every command through the API records the token's account."""
import pytest

from engine import names
from engine.errors import CommandRefused
from tests.conftest import open_consultation, start_procedure
from tests.integration.test_toetreding import apply_

LOOKALIKES = ['Gemeente Utr\u0435cht', 'Gemeente U\u0442recht', '\uff27\uff45\uff4d\uff45\uff45\uff4e\uff54\uff45 Utrecht',
              'Gemeente\u00a0Utrecht', 'gemeente utrecht', 'Gemeente  Utrecht', 'Gemeente Ut\u0280echt',
              'Gemeente UTRECHT']
INVISIBLE = ['Gemeente\u200bUtrecht', 'Gemeente Utrecht\u200d', 'Gemeente\u2060Utrecht', '\ufeffGemeente Utrecht',
             'Gemeente Utr\u00adecht', '\u202eGemeente Utrecht', 'Gemeente Utrecht\u200f', '\u2066Gemeente\u2069',
             # format, tag and other default-ignorable characters, and blanks that draw nothing
             'Gemeente Utrecht\u2063', 'Gemeente\u061cUtrecht', 'Gemeente\u180eUtrecht', 'Gemeente\u034fUtrecht',
             'Gemeente Utrecht\ufe0f', 'Gemeente Utrecht\U000e0041', 'Gemeente\u3164Utrecht',
             'Gemeente\u115fUtrecht', 'Gemeente\u2800Utrecht']


def codes(refused):
    return [(p.code, p.field) for p in refused.value.problems]


@pytest.mark.parametrize('name', LOOKALIKES)
def test_an_applicant_that_looks_like_a_party_is_refused_naming_it(app, name):
    with pytest.raises(CommandRefused) as refused:
        apply_(app, applicant=name)
    found = [p for p in refused.value.problems if p.field == 'applicant']
    assert found and found[0].code in ('toetreding.name_like_party', 'toetreding.already_a_party')
    assert found[0].params.get('party', 'Gemeente Utrecht') == 'Gemeente Utrecht'


@pytest.mark.parametrize('name', INVISIBLE)
def test_invisible_and_direction_characters_are_refused_in_names(app, name):
    with pytest.raises(CommandRefused) as refused:
        apply_(app, applicant=name)
    assert ('name.invisible_characters', 'applicant') in codes(refused)
    with pytest.raises(CommandRefused) as refused:
        apply_(app, representative=name)
    assert ('name.invisible_characters', 'representative') in codes(refused)
    with pytest.raises(CommandRefused) as refused:
        open_consultation(app) if False else start_procedure(app, 'wijziging', by='zeist', person=name,
                                                             title='T', text='Tekst.')
    assert ('name.invisible_characters', 'person') in codes(refused)
    with pytest.raises(CommandRefused) as refused:
        app.add_user('nieuw@deal.example', 'een lang en goed wachtwoord 42', party='zeist', name=name)
    assert ('name.invisible_characters', 'name') in codes(refused)


def test_names_are_stored_nfkc_with_a_plain_space(app):
    pid = apply_(app, applicant='Gemeente\u00a0\uff25indhoven')
    assert 'Gemeente Eindhoven' in str(app.show(pid))


def test_a_deal_file_with_an_invisible_character_in_a_party_name_is_refused():
    from engine import deal_file
    from marshmallow import ValidationError
    with pytest.raises(ValidationError):
        deal_file.PartySchema().load({'code': 'x', 'name': 'Gemeente\u200bUtrecht', 'kind': 'gemeente',
                                      'email': 'x@example.org', 'representatives': ['A']})


def test_the_skeleton_catches_lookalikes_but_not_other_names():
    assert names.looks_like('Gemeente Utrecht', 'G\u0435m\u0435\u0435nt\u0435 Utr\u0435\u0441ht')
    assert not names.looks_like('Gemeente Utrecht', 'Gemeente Zeist')
    assert names.looks_like('Platform31', 'PIatform31')  # a capital I for a small l


def test_every_command_through_the_api_records_the_account(api, app):  # noqa: F811
    started = api('POST', '/api/v1/procedures', 'bzk', json={'type': 'wijziging', 'title': 'API', 'text': 'Via de API.'})
    assert started.status_code == 201
    account = next(u.id for u in app.users() if u.email == 'bzk@deal.example')
    entries = app.audit(1)
    assert entries and all(e['data'].get('account') == account for e in entries)


def test_a_toetreding_through_the_api_records_the_account(api, app):  # noqa: F811
    body = {'type': 'toetreding', 'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente',
            'representative': 'R. Thijs', 'contribution': 'Inzet', 'endorses_goals': True}
    started = api('POST', '/api/v1/procedures', 'zeist', json=body)
    assert started.status_code == 201, started.get_json()
    account = next(u.id for u in app.users() if u.email == 'zeist@deal.example')
    entries = app.audit(started.get_json()['id'])
    assert entries and all(e['data'].get('account') == account for e in entries)


def test_new_versions_uploads_and_registrations_through_the_api_record_the_account(api, app):  # noqa: F811
    from tests.conftest import open_consultation
    accounts = {u.email.split('@')[0]: u.id for u in app.users()}
    pid = api('POST', '/api/v1/procedures', 'bzk', json={'type': 'wijziging', 'title': 'API', 'text': 'Eerst.'}
              ).get_json()['id']
    open_consultation(app, pid)
    assert api('POST', f'/api/v1/procedures/{pid}/versies', 'bzk', json={'text': 'Daarna.'}).status_code == 201
    upload = api('POST', '/api/v1/documenten', 'bzk', data={'file': (__import__('io').BytesIO(b'Een notitie.\n'),
                                                                     'notitie.txt')})
    assert upload.status_code == 201
    registered = api('POST', '/api/v1/procedures', 'projectleider', json={
        'type': 'toetreding', 'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'representative': 'R. Thijs',
        'contribution': 'Inzet', 'endorses_goals': True, 'received': '2021-04-01'})
    assert registered.status_code == 201, registered.get_json()
    by_event = {e['event']: e['data'].get('account') for e in app.audit()}
    assert by_event['new_version'] == accounts['bzk'] and by_event['document_added'] == accounts['bzk']
    assert [e['data'].get('account') for e in app.audit(registered.get_json()['id'])
            if e['event'] == 'procedure_started'] == [accounts['projectleider']]


def test_another_partys_open_task_is_403_without_who_answers(api, app):  # noqa: F811
    api('POST', '/api/v1/procedures', 'bzk', json={'type': 'wijziging', 'title': 'API', 'text': 'Via de API.'})
    [opening] = api('GET', '/api/v1/taken', 'projectleider').get_json()
    api('POST', f"/api/v1/taken/{opening['id']}/beslissing", 'projectleider', json={})
    [task] = api('GET', '/api/v1/taken', 'zeist').get_json()
    for tid in (task['id'],):
        seen = api('GET', f'/api/v1/taken/{tid}', 'bzk')
        assert seen.status_code == 403
        text = seen.get_data(as_text=True)
        assert 'zeist' not in text.lower() and 'projectleider' not in text.lower()


def test_api_problems_are_in_english_whatever_the_language(api):  # noqa: F811
    for language in ('nl', 'nl-NL,nl;q=0.9', 'en', 'de'):
        problem = api('POST', '/api/v1/procedures', 'bzk', json={'type': 'wijziging', 'title': 'API'},
                      headers={'Accept-Language': language}).get_json()
        words = ' '.join(p.get('reason', '') + p.get('detail', '') for p in problem.get('invalid-params', []))
        assert problem['title'] == api('POST', '/api/v1/procedures', 'bzk', json={'type': 'wijziging', 'title': 'API'},
                                       headers={'Accept-Language': 'en'}).get_json()['title']
        assert 'verplicht' not in (words + problem.get('detail', '')).lower()


def test_the_apis_own_http_errors_are_in_english_too(api):  # noqa: F811
    for method, path, who, extra in (('GET', '/api/v1/bestaat-niet', None, {}),
                                     ('DELETE', '/api/v1/procedures', 'bzk', {}),
                                     ('GET', '/api/v1/bijlagen/99', 'bzk', {}),
                                     ('POST', '/api/v1/procedures', 'bzk', {'data': 'x' * 300_000,
                                                                            'content_type': 'application/json'})):
        answer = api(method, path, who, headers={'Accept-Language': 'nl'}, **extra)
        assert answer.status_code >= 400 and answer.mimetype == 'application/problem+json', (path, answer.status_code)
        problem = answer.get_json()
        assert problem['title'] in ('Not Found', 'Method Not Allowed', 'Request Entity Too Large', 'Not found'), problem
        assert not any(word in answer.get_data(as_text=True) for word in ('Niet', 'niet', 'Te groot', 'pagina'))
