"""Who may start what, decided once: the web and the API give the same answer for every procedure type
and every role, because both ask engine.rights."""
import pytest

from engine import procedures as registry
from engine import rights
from tests.web_support import browser, email_of

ROLES = ('zeist', 'projectleider', 'secretaris', 'auditor', 'admin')




def _web_allows(site, who, type_):
    b = browser(site, who)
    if registry.PUBLIC in type_.started_by:
        # the public request to join: anyone may send one, but an auditor changes nothing
        status = b.post('/toetreden', {'applicant': ''}).status_code
        assert status in (403, 422), status
        return status == 422
    status = b.get(f'/procedures/nieuw/{type_.id}').status_code
    assert status in (200, 403), status
    return status == 200


def _api_allows(site, app, who, type_):
    _, token = app.create_token(email_of(who))
    client = site.test_client()
    response = client.post('/api/v1/procedures', json={'type': type_.id},
                           headers={'Authorization': f'Bearer {token}'})
    assert response.status_code in (201, 400, 403), (response.status_code, response.get_json())
    return response.status_code != 403


@pytest.mark.parametrize('type_id', registry.IDS)
def test_web_and_api_give_the_same_answer_for_every_type_and_role(site, app, type_id):
    type_ = registry.get(type_id)
    answers = {}
    for who in ROLES:
        web, api = _web_allows(site, who, type_), _api_allows(site, app, who, type_)
        assert web == api, (who, type_id, web, api)
        account = next(a for a in app.users() if a.email == email_of(who))
        assert rights.may_start(rights.Caller.for_account(account), type_) == web, (who, type_id)
        answers[who] = web
    assert answers['auditor'] is False  # auditors change nothing, not even a request to join
    assert answers['zeist'] is (registry.PARTY in type_.started_by or registry.PUBLIC in type_.started_by)


@pytest.mark.parametrize('who', ROLES)
def test_web_and_api_show_the_statements_of_a_confidential_request_to_the_same_people(site, app, who):
    from tests.conftest import answer, open_consultation, start_amendment
    pid = start_amendment(app, confidential=True)
    open_consultation(app, pid)
    answer(app, 'utrecht', 'objection', 'Niet binnen onze begroting van dit jaar.')
    b = browser(site, who)
    on_the_web = 'Niet binnen onze begroting' in b.get(f'/procedures/{pid}').get_data(as_text=True)
    _, token = app.create_token(email_of(who))
    view = site.test_client().get(f'/api/v1/procedures/{pid}', headers={'Authorization': f'Bearer {token}'})
    assert view.status_code == 200
    through_the_api = 'Niet binnen onze begroting' in view.get_data(as_text=True)
    assert on_the_web == through_the_api == (who != 'admin')
