"""The REST API (/api/v1), after the NL API Design Rules: resources in Dutch, problem+json errors,
an API-Version header on every response, no trailing-slash redirects, personal bearer tokens with
the same rights as their person in the web app, and an OpenAPI 3 document made from the schemas."""
from functools import wraps

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from engine import documents, rights, roles
from engine import procedures as registry
from engine.errors import CommandRefused, Conflict, Damaged, Forbidden, NotFound
from engine.rights import Caller
from engine.runner import Actor
from web import api_schemas as s
from web.auth import city_deal, tasks_for

API_VERSION = '1.1.0'
#: the API answers in one language, whatever the page's language is
LANGUAGE = 'en'
blueprint = Blueprint('api', __name__, url_prefix='/api/v1')
PROBLEM = 'application/problem+json'


class ApiProblem(Exception):
    def __init__(self, status, title, detail='', invalid=()):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.invalid = status, title, detail, list(invalid)


def problem(status, title, detail='', invalid=()):
    """``invalid``: (name, reason) pairs, or (name, reason, code) for the engine's coded refusals."""
    body = {'type': f'https://datatracker.ietf.org/doc/html/rfc9110#status.{status}' if status != 422 else
            'about:blank', 'title': title, 'status': status}
    if detail:
        body['detail'] = detail
    if invalid:
        body['invalid-params'] = [dict({'name': item[0], 'reason': item[1]}, **({'code': item[2]} if len(item) > 2
                                                                                 else {})) for item in invalid]
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    if status == 401:
        response.headers['WWW-Authenticate'] = 'Bearer'
    response.headers['API-Version'] = API_VERSION
    return response


@blueprint.after_request
def _version(response):
    response.headers['API-Version'] = API_VERSION
    return response


def handle_error(error):
    """Every error under /api/v1 as problem+json; bad input is never a 500."""
    if isinstance(error, ApiProblem):
        return problem(error.status, error.title, error.detail, error.invalid)
    if isinstance(error, NotFound):
        return problem(404, 'Not found', '; '.join(p.message(LANGUAGE) for p in error.problems))
    if isinstance(error, Forbidden):
        return problem(403, 'Forbidden', '; '.join(p.message(LANGUAGE) for p in error.problems))
    if isinstance(error, Damaged):
        return problem(500, 'The record is damaged', 'Nothing was served.',
                       [(p.field, p.message(LANGUAGE), p.code) for p in error.problems])
    if isinstance(error, CommandRefused):
        return problem(400, 'The request was refused', 'Nothing was changed.',
                       [(p.field, p.message(LANGUAGE) + (f' (rule: {p.rule})' if p.rule else ''), p.code)
                        for p in error.problems])
    if isinstance(error, Conflict):
        return problem(409, 'Conflict', str(error))
    if isinstance(error, HTTPException):
        return problem(error.code, error.name, error.description or '')
    raise error


def authenticated(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get('Authorization', '')
        scheme, _, token = header.partition(' ')
        account = city_deal().account_for_token(token.strip()) if scheme.lower() == 'bearer' else None
        if account is None:
            raise ApiProblem(401, 'Unauthorized', 'a valid personal API token is needed: Authorization: Bearer <token>')
        g.api_account = account
        return view(*args, **kwargs)
    return wrapper


def _optional_account():
    """The token's account, None without an Authorization header (the public); a bad token is a 401."""
    header = request.headers.get('Authorization')
    if header is None:
        return None
    scheme, _, token = header.partition(' ')
    account = city_deal().account_for_token(token.strip()) if scheme.lower() == 'bearer' else None
    if account is None:
        raise ApiProblem(401, 'Unauthorized', 'the token is not valid; leave out Authorization for public documents')
    return account


def _forbidden(detail):
    raise ApiProblem(403, 'Forbidden', detail)


def _dump(schema, data, many=False):
    return schema(many=many).dump(data)


def _body():
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # thousands of nested arrays: Python's parser gives up, the request is bad
        raise ApiProblem(400, 'Bad request', 'the body is nested too deeply', [('body', 'nested too deeply')]) from None
    if not isinstance(body, dict):
        raise ApiProblem(400, 'Bad request', 'the body must be a JSON object', [('body', 'expected a JSON object')])
    return body


def _document_ids(body):
    """``documents``: ids from ``POST /api/v1/documenten``, attached in the start's own transaction."""
    ids = body.get('documents', [])
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiProblem(400, 'Bad request', 'Nothing was changed.',
                         [('documents', 'must be a list of document ids')])
    return tuple(ids)


def _load(schema):
    body = _body()
    try:
        return schema().load(body)
    except ValidationError as err:
        raise ApiProblem(400, 'Bad request', 'Nothing was changed.',
                         [(name, ' '.join(map(str, messages)) if isinstance(messages, list) else str(messages))
                          for name, messages in err.messages.items()]) from None


@blueprint.get('/openapi.json', strict_slashes=False)
def openapi():
    return jsonify(SPEC.to_dict())


@blueprint.get('/partijen', strict_slashes=False)
@authenticated
def partijen():
    return jsonify(_dump(s.Partij, city_deal().parties(), many=True))


@blueprint.get('/partijen/<code>', strict_slashes=False)
@authenticated
def partij(code):
    found = [p for p in city_deal().parties() if p['code'] == code]
    if not found:
        raise ApiProblem(404, 'Not found', f'no party {code!r}')
    return jsonify(_dump(s.Partij, found[0]))


@blueprint.get('/procedures', strict_slashes=False)
@authenticated
def procedures():
    return jsonify(_dump(s.Procedure, city_deal().procedures(), many=True))


@blueprint.get('/procedures/<int:procedure_id>', strict_slashes=False)
@authenticated
def procedure(procedure_id):
    view = rights.redacted(city_deal().show(procedure_id), Caller.for_account(g.api_account))
    return jsonify(_dump(s.ProcedureDetail, view))


@blueprint.post('/procedures', strict_slashes=False)
@authenticated
def start():
    body = _body()
    kind = body.get('type')
    if not isinstance(kind, str) or kind not in registry.TYPES:
        raise ApiProblem(400, 'Bad request', 'Nothing was changed.',
                         [('type', f"must be one of {', '.join(registry.IDS)}", 'field.not_a_choice')])
    values = {k: v for k, v in body.items() if k not in ('type', 'by', 'documents')}
    by = body.get('by')
    if by is not None and not isinstance(by, str):
        raise ApiProblem(400, 'Bad request', 'Nothing was changed.', [('by', 'must be a party code', 'field.not_text')])
    result = city_deal().start(kind, Caller.for_account(g.api_account, acting_for=by), values,
                               document_ids=_document_ids(body))
    response = jsonify(_dump(s.Gestart, result))
    response.status_code = 201
    response.headers['Location'] = f"/api/v1/procedures/{result['id']}"
    return response


@blueprint.get('/taken', strict_slashes=False)
@authenticated
def taken():
    return jsonify(_dump(s.Taak, tasks_for(g.api_account), many=True))


@blueprint.get('/taken/<task_id>', strict_slashes=False)
@authenticated
def taak(task_id):
    return jsonify(_dump(s.Taak, city_deal().task_for(task_id, Caller.for_account(g.api_account))))


@blueprint.post('/taken/<task_id>/beslissing', strict_slashes=False)
@authenticated
def beslissing(task_id):
    data = _load(s.Beslissing)
    values = dict(data.get('fields_') or {})
    for key in ('decision', 'statement'):
        if key in data:
            values[key] = data[key]
    result = city_deal().complete(task_id, Caller.for_account(g.api_account), values,
                                  document_ids=data.get('documents') or ())
    response = jsonify(_dump(s.Ontvangst, result))
    response.status_code = 201
    return response


@blueprint.put('/taken/<task_id>/beslissing', strict_slashes=False)
@authenticated
def beslissing_herzien(task_id):
    """Issue 11, point 4: replace the answer while the round is open."""
    data = _load(s.Beslissing)
    values = {key: data[key] for key in ('decision', 'statement') if key in data}
    return jsonify(_dump(s.Ontvangst, city_deal().revise(task_id, Caller.for_account(g.api_account), values)))


@blueprint.post('/procedures/<int:procedure_id>/versies', strict_slashes=False)
@authenticated
def nieuwe_versie(procedure_id):
    """Issue 11, point 5: a new version of the text, put to every Party again."""
    data = _load(s.NieuweVersie)
    values = {key: data[key] for key in ('text', 'title', 'motivation') if key in data}
    caller = Caller.for_account(g.api_account, acting_for=data.get('acting_for'))
    response = jsonify(_dump(s.Gestart, city_deal().new_version(procedure_id, caller, values)))
    response.status_code = 201
    return response


@blueprint.get('/bijlagen', strict_slashes=False)
@authenticated
def bijlagen():
    return jsonify(_dump(s.Bijlage, city_deal().appendices(), many=True))


@blueprint.get('/audit', strict_slashes=False)
@authenticated
def audit():
    if g.api_account.role not in roles.AUDITORS:
        _forbidden('auditors only')
    return jsonify(_dump(s.AuditEntry, city_deal().audit_search(), many=True))


@blueprint.get('/audit/head', strict_slashes=False)
def audit_head():
    """The chain's head, for anyone to keep: it reveals nothing but a number and a hash."""
    return jsonify(_dump(s.AuditHead, city_deal().audit_head()))


#: a document of at most 20 MB, with room for the multipart framing around it
UPLOAD_LIMIT = documents.MAX_BYTES + 64 * 1024


@blueprint.post('/documenten', strict_slashes=False)
@authenticated
def upload_document():
    account = g.api_account
    if account.role in roles.AUDITORS:
        _forbidden('auditors change nothing')
    if (request.content_length or 0) > UPLOAD_LIMIT:
        raise ApiProblem(413, 'Content Too Large', 'Nothing was stored.',
                         [('document', f'the file is larger than {documents.MAX_BYTES // (1024 * 1024)} MB')])
    request.max_content_length = UPLOAD_LIMIT
    upload = request.files.get('file')
    if upload is None:
        raise ApiProblem(400, 'Bad request', 'Nothing was stored.',
                         [('document', 'send the file as multipart/form-data in the field `file`')])
    content = upload.stream.read(documents.MAX_BYTES + 1)
    actor = Actor(account.name, account.acts_for[0] if account.acts_for else account.role, account.id)
    try:
        result = city_deal().add_document(upload.filename or '', content, actor=actor)
    except CommandRefused as refused:
        # A file over 20 MB in a body just under the limit (the framing's room) is as large as a longer body:
        # 413, not 400.
        too_large = [p for p in refused.problems if p.code == 'document.too_large']
        if too_large:
            raise ApiProblem(413, 'Content Too Large', 'Nothing was stored.',
                             [(p.field, p.message(LANGUAGE), p.code) for p in too_large]) from None
        raise
    response = jsonify(_dump(s.Document, result))
    response.status_code = 201
    response.headers['Location'] = f"/api/v1/documenten/{result['id']}"
    return response


@blueprint.get('/documenten/<int:document_id>', strict_slashes=False)
def document(document_id):
    """The file itself. With a token: what its person may see; without: only documents of public bijlagen."""
    described, content = city_deal().document(document_id, viewer=_optional_account())
    return Response(content, mimetype=described['media_type'], headers={
        'Content-Disposition': attachment_header(described['name']), 'X-Content-SHA256': described['sha256']})


def attachment_header(name):
    """Content-Disposition for a download: an ASCII fallback name and the real one (RFC 6266)."""
    from urllib.parse import quote
    ascii_name = name.encode('ascii', 'replace').decode('ascii').replace('"', "'").replace('?', '_')
    return f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}'


def _spec():
    spec = APISpec(title='City Deal governance API', version=API_VERSION, openapi_version='3.0.3',
                   plugins=[MarshmallowPlugin()], info={'description': __doc__})
    spec.components.security_scheme('bearer', {'type': 'http', 'scheme': 'bearer'})
    for name in ('Partij', 'Procedure', 'Taak', 'Antwoord', 'ProcedureDetail', 'Verklaring', 'Bijlage', 'AuditEntry',
                 'Beslissing', 'Ontvangst', 'Gestart', 'InvalidParam', 'Problem', 'AuditHead', 'Document',
                 'NieuweVersie'):
        spec.components.schema(name, schema=getattr(s, name))
    starts = s.start_schemas()
    for name, schema in starts.items():
        spec.components.schema(name, schema=schema)
    spec.components.schema('NieuweProcedure', {
        'oneOf': [{'$ref': f'#/components/schemas/{name}'} for name in starts],
        'discriminator': {'propertyName': 'type'}})
    problem_response = {'content': {PROBLEM: {'schema': 'Problem'}}}
    errors = {str(code): dict(problem_response, description=text) for code, text in (
        ('400', 'Bad input'), ('401', 'No valid token'), ('403', 'Not allowed'), ('404', 'Not found'),
        ('409', 'Conflict'))}
    headers = {'API-Version': {'schema': {'type': 'string'}, 'description': 'the API version'}}

    def ok(schema, many=False, code='200'):
        body = {'type': 'array', 'items': schema} if many else schema
        return {code: {'description': 'OK', 'headers': headers, 'content': {'application/json': {'schema': body}}},
                **errors}

    secured = [{'bearer': []}]
    id_param = {'in': 'path', 'name': 'procedure_id', 'required': True, 'schema': {'type': 'integer'}}
    task_param = {'in': 'path', 'name': 'task_id', 'required': True, 'schema': {'type': 'string'}}
    spec.path('/api/v1/partijen', operations={'get': {'security': secured, 'responses': ok('Partij', True)}})
    spec.path('/api/v1/partijen/{code}', operations={'get': {
        'security': secured, 'parameters': [{'in': 'path', 'name': 'code', 'required': True,
                                             'schema': {'type': 'string'}}], 'responses': ok('Partij')}})
    spec.path('/api/v1/procedures', operations={
        'get': {'security': secured, 'responses': ok('Procedure', True)},
        'post': {'security': secured, 'requestBody': {'required': True, 'content': {
            'application/json': {'schema': 'NieuweProcedure'}}}, 'responses': ok('Gestart', code='201')}})
    spec.path('/api/v1/procedures/{procedure_id}', operations={'get': {
        'security': secured, 'parameters': [id_param], 'responses': ok('ProcedureDetail')}})
    spec.path('/api/v1/taken', operations={'get': {'security': secured, 'responses': ok('Taak', True)}})
    spec.path('/api/v1/taken/{task_id}', operations={'get': {
        'security': secured, 'parameters': [task_param], 'responses': ok('Taak')}})
    spec.path('/api/v1/taken/{task_id}/beslissing', operations={'post': {
        'security': secured, 'parameters': [task_param], 'requestBody': {'required': True, 'content': {
            'application/json': {'schema': 'Beslissing'}}}, 'responses': ok('Ontvangst', code='201')},
        'put': {'security': secured, 'parameters': [task_param], 'description':
                'Replace the answer to a consent request while its round is open (issue 11).',
                'requestBody': {'required': True, 'content': {'application/json': {'schema': 'Beslissing'}}},
                'responses': ok('Ontvangst')}})
    spec.path('/api/v1/procedures/{procedure_id}/versies', operations={'post': {
        'security': secured, 'parameters': [id_param], 'description':
            'A new version of the text while the round is open: every answer to the earlier one is void (issue 11).',
        'requestBody': {'required': True, 'content': {'application/json': {'schema': 'NieuweVersie'}}},
        'responses': ok('Gestart', code='201')}})
    spec.path('/api/v1/bijlagen', operations={'get': {'security': secured, 'responses': ok('Bijlage', True)}})
    spec.path('/api/v1/audit', operations={'get': {'security': secured, 'responses': ok('AuditEntry', True)}})
    spec.path('/api/v1/audit/head', operations={'get': {
        'description': "The audit chain's head, without login: keep it, and pass it later to "
                       '`citydeal audit verify --anchor SEQ:HASH`.', 'responses': ok('AuditHead')}})
    spec.path('/api/v1/documenten', operations={'post': {
        'security': secured, 'description': 'Upload one file (PDF, odt, ods, docx, xlsx or UTF-8 text, at most '
                                            '20 MB), recognised by its content.',
        'requestBody': {'required': True, 'content': {'multipart/form-data': {'schema': {
            'type': 'object', 'required': ['file'], 'properties': {'file': {'type': 'string', 'format': 'binary'}}}}}},
        'responses': dict(ok('Document', code='201'), **{'413': dict(problem_response,
                                                                     description='Larger than 20 MB')})}})
    spec.path('/api/v1/documenten/{document_id}', operations={'get': {
        'security': [{'bearer': []}, {}],
        'description': 'The file. Without a token only documents of public (adopted, not confidential) bijlagen.',
        'parameters': [{'in': 'path', 'name': 'document_id', 'required': True, 'schema': {'type': 'integer'}}],
        'responses': {'200': {'description': 'The file', 'headers': headers,
                              'content': {'application/octet-stream': {'schema': {'type': 'string',
                                                                                  'format': 'binary'}}}}, **errors}}})
    spec.path('/api/v1/openapi.json', operations={'get': {'responses': {'200': {
        'description': 'This document', 'headers': headers, 'content': {'application/json': {'schema': {
            'type': 'object'}}}}}}})
    return spec


SPEC = _spec()
