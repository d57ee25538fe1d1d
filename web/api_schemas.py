"""marshmallow schemas of every API request and response; the OpenAPI document is made from them."""
from marshmallow import EXCLUDE, Schema, fields, validate

from engine import procedures as registry
from engine.deal_file import PARTY_KINDS
from engine.procedures import PARTY



class Partij(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    #: one of the deal file's ``[deal] party_kinds`` (by default these)
    kind = fields.String(required=True, metadata={'examples': list(PARTY_KINDS)})
    #: ``admitted``: accepted, joining on ``joined_on``
    status = fields.String(required=True, validate=validate.OneOf(('admitted', 'active', 'withdrawing', 'withdrawn')))
    joined_on = fields.String(required=True)
    left_on = fields.String(allow_none=True)
    withdrawal_effective_on = fields.String(allow_none=True)
    annual_contribution_eur = fields.Integer(allow_none=True)


class Procedure(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, validate=validate.OneOf(registry.IDS))
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    started = fields.String(required=True)
    deadline = fields.String(allow_none=True)
    title = fields.Raw(allow_none=True)


class Antwoord(Schema):
    party = fields.String(required=True)
    decision = fields.String(required=True)
    statement = fields.String(required=True)
    person = fields.String(required=True)
    at = fields.String(required=True)
    #: the SHA-256 of the text answered (issue 11); null for answers recorded before
    text_sha256 = fields.String(allow_none=True)


class Versie(Schema):
    number = fields.Integer(required=True)
    text = fields.String(required=True)
    sha256 = fields.String(required=True)
    created_dt = fields.String(required=True)


class NieuweVersie(Schema):
    """A new version of a procedure's text (issue 11): by the requesting party or the projectleider."""
    class Meta:
        unknown = EXCLUDE
    acting_for = fields.String(data_key='as')
    text = fields.String(required=True)
    title = fields.String()
    motivation = fields.String()


class Taak(Schema):
    id = fields.String(required=True)
    procedure_id = fields.Integer(required=True)
    procedure_type = fields.String(required=True)
    name = fields.String(required=True)
    label = fields.String(required=True)
    party = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    due = fields.String(allow_none=True)


class ProcedureDetail(Procedure):
    request = fields.Dict(required=True)
    answers = fields.List(fields.Nested(Antwoord), required=True)
    waiting_for = fields.List(fields.String(), required=True)
    open_tasks = fields.List(fields.Nested(Taak), required=True)
    versions = fields.List(fields.Nested(Versie), allow_none=True)


class Verklaring(Schema):
    party = fields.String(required=True)
    representative = fields.String(required=True)
    statement = fields.String(allow_none=True)
    date = fields.String(required=True)


class Bijlage(Schema):
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    procedure_id = fields.Integer(required=True)
    adopted = fields.String(required=True)
    confidential = fields.Boolean(required=True)
    body = fields.String(allow_none=True)
    text_sha256 = fields.String(required=True)
    statements = fields.List(fields.Nested(Verklaring), required=True)


class AuditEntry(Schema):
    seq = fields.Integer(required=True)
    at = fields.String(required=True)
    person = fields.String(required=True)
    acting_for = fields.String(required=True)
    procedure_id = fields.Integer(allow_none=True)
    event = fields.String(required=True)
    data = fields.Dict(required=True)
    hash = fields.String(required=True)


class AuditHead(Schema):
    """The audit chain's last entry: an anchor any party may keep (``SEQ:HASH``)."""
    seq = fields.Integer(required=True)
    hash = fields.String(required=True, validate=validate.Length(equal=64))


class Document(Schema):
    """A stored file: recognised by its content, named by its SHA-256."""
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, validate=validate.Length(equal=64))


class Beslissing(Schema):
    """A decision on a task: consent or objection on a consent task, or the task's form fields."""
    class Meta:
        unknown = EXCLUDE
    #: the task's own form decides what is allowed (consent|objection, keep|lift): refused there with a code
    decision = fields.String(validate=validate.Length(max=40), metadata={
        'description': 'consent or objection on a consent request; keep or lift on geheimhouding_toetsen'})
    statement = fields.String(validate=validate.Length(max=20000))
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key='fields', load_default=dict)
    documents = fields.List(fields.Integer(strict=True), metadata={
        'description': 'ids from POST /api/v1/documenten, attached with the answer'})


class Ontvangst(Schema):
    procedure_id = fields.Integer(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    receipt = fields.Integer(required=True)


def start_schemas():
    """One request schema per procedure type, drawn from the type's own start schema (engine.procedures):
    {schema name: schema}. The OpenAPI document offers them as ``oneOf``, told apart by ``type``."""
    result = {}
    for type_ in registry.all_types():
        declared = dict(type_.start_schema._declared_fields)
        declared['type'] = fields.String(required=True, validate=validate.OneOf((type_.id,)))
        if PARTY in type_.started_by:
            declared['by'] = fields.String(metadata={'description': 'the party code it is for (default: your own)'})
        declared['documents'] = fields.List(fields.Integer(strict=True), metadata={
            'description': 'ids from POST /api/v1/documenten, attached to the request'})
        name = 'Nieuwe' + type_.id.capitalize()
        result[name] = Schema.from_dict(declared, name=name)
    return result


class Gestart(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)


class InvalidParam(Schema):
    name = fields.String(required=True)
    reason = fields.String(required=True)
    #: the engine's stable code of the refusal (``consent.statement_required``); the reason is its English text
    code = fields.String()


class Problem(Schema):
    """application/problem+json (RFC 9457), as the NL API Design Rules ask."""
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    invalid_params = fields.List(fields.Nested(InvalidParam), data_key='invalid-params')
