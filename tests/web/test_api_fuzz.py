"""schemathesis against the API's own OpenAPI document: no 5xx for any input, every response as documented."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import open_consultation, start_amendment
from web.api import SPEC

schema = schemathesis.openapi.from_dict(SPEC.to_dict())


@pytest.fixture
def flask_app(app, site):
    pid = start_amendment(app)
    open_consultation(app, pid)
    token = app.create_token('zeist@deal.example', 'fuzz')[1]
    return site, token


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_holds_to_its_document(case, flask_app):
    application, token = flask_app
    response = case.call(app=application, headers={'Authorization': f'Bearer {token}'})
    # Every case carries a valid token on purpose (auth is tested in test_api). A request that fits the
    # schema may still break a rule of the deal (a title must not be blank, a date must lie in the
    # term): that is a documented 400 with invalid-params, not a schema violation.
    case.validate_response(response, excluded_checks=[schemathesis.checks.ignored_auth,
                                                      schemathesis.checks.positive_data_acceptance])
