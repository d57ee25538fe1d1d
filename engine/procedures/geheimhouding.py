"""Geheimhouding: a Party asks that information of the deal be kept confidential (Gegevenswisseling
lid 1: "in beginsel openbaar"; on request "in beginsel geheim", unless the law, a court ruling or the
deal itself requires disclosure).

Protective at once: from the request on, the texts (a procedure's request and every statement in it,
or one party's statement) are off every public page and export; parties and roles still see them,
marked. The projectleider then checks for a duty to disclose (``geheimhouding_toetsen``: keep, or
lift with a reason). The requesting party may lift its own request later: a second request with
``lift``, which ends the first at once.
"""
from sqlalchemy import select

from engine import notices, procedure_store, register, rules, runner
from engine.confidentiality import PROTECTING
from engine.errors import CommandRefused
from engine.models import Answer, ConfidentialityClaim, Procedure
from engine.procedures import fields as f
from engine.procedures.base import PARTY, ProcedureType, TaskForm

REVIEW_TASK = 'geheimhouding_toetsen'


class Start(f.CodedSchema):
    procedure = f.Number(required=True, metadata={'help': 'the procedure whose texts are to be kept confidential'})
    party = f.Line(load_default=None, required=False, max_length=80,
                   metadata={'help': "only this party's statement in it (its code)"})
    grounds = f.Text(required=False, metadata={'help': 'why (required to ask)'})
    lift = f.YesNo(load_default=False, metadata={'help': "lift your party's own request"})


def start(ctx, values):
    requester = register.party(ctx.session, ctx.actor.acting_for, 'by')
    target = procedure_store.get(ctx.session, values['procedure'])
    if target.type == TYPE.id:
        raise CommandRefused.one('geheimhouding.not_of_itself', 'procedure', rules.GEGEVENSWISSELING_1)
    statement_of = values['party'] or None
    if statement_of is not None:
        register.party(ctx.session, statement_of, 'party')
        if not _has_statement(ctx.session, target, statement_of):
            raise CommandRefused.one('geheimhouding.no_statement', 'party', rules.GEGEVENSWISSELING_1,
                                     party=statement_of, procedure=target.id)
    claim = _protecting_claim(ctx.session, target.id, statement_of)
    if values['lift']:
        if claim is None or claim.requested_by != requester.code:
            raise CommandRefused.one('geheimhouding.nothing_to_lift', 'lift', rules.GEGEVENSWISSELING_1,
                                     procedure=target.id)
    else:
        if not values['grounds']:
            raise CommandRefused.one('geheimhouding.grounds_required', 'grounds', rules.GEGEVENSWISSELING_1)
        if claim is not None:
            raise CommandRefused.one('geheimhouding.already_requested', 'procedure', rules.GEGEVENSWISSELING_1,
                                     procedure=target.id, handled_by=claim.handled_by)
    request = {'procedure': target.id, 'procedure_title': runner.title(target), 'statement_of': statement_of,
               'grounds': values['grounds'], 'lift': values['lift'], 'requester': requester.code,
               'requester_name': requester.name}
    data = {'lift': values['lift']}
    return runner.launch(ctx, TYPE, request, data, initiated_by=requester.code)


def _has_statement(session, procedure, party_code):
    return session.scalars(select(Answer.id).where(Answer.procedure_id == procedure.id,
                                                   Answer.party_code == party_code)).first() is not None


def _protecting_claim(session, procedure_id, statement_of):
    return session.scalars(select(ConfidentialityClaim).where(
        ConfidentialityClaim.procedure_id == procedure_id, ConfidentialityClaim.statement_of.is_(None)
        if statement_of is None else ConfidentialityClaim.statement_of == statement_of,
        ConfidentialityClaim.status.in_(PROTECTING))).first()


def _claim_of(ctx, procedure):
    return ctx.session.scalars(select(ConfidentialityClaim).where(
        ConfidentialityClaim.handled_by == procedure.id)).one()


def _scope(request):
    return {'procedure': request['procedure'], 'statement_of': request.get('statement_of')}


def confidentiality_requested(ctx, procedure, data):
    request = procedure.request
    ctx.session.add(ConfidentialityClaim(procedure_id=request['procedure'], statement_of=request.get('statement_of'),
                                         requested_by=request['requester'], grounds=request['grounds'],
                                         handled_by=procedure.id, status='requested', requested_dt=ctx.now))
    runner.record(ctx, procedure, 'confidentiality_requested', dict(_scope(request), grounds=request['grounds']))
    _tell(ctx, procedure, 'confidentiality_requested')


def _decided(ctx, procedure, status, reason, event):
    claim = _claim_of(ctx, procedure)
    claim.status, claim.decided_dt, claim.reason = status, ctx.now, reason
    runner.record(ctx, procedure, event, dict(_scope(procedure.request), reason=reason))
    _tell(ctx, procedure, event, reason=reason)


def confidentiality_kept(ctx, procedure, data):
    _decided(ctx, procedure, 'kept', data.get('reason', ''), 'confidentiality_kept')


def confidentiality_lifted(ctx, procedure, data):
    _decided(ctx, procedure, 'lifted', data.get('reason', ''), 'confidentiality_lifted')


def confidentiality_withdrawn(ctx, procedure, data):
    """The requesting party lifts its own request: the texts are public again, the review (if still
    open) has nothing left to decide."""
    request = procedure.request
    claim = _protecting_claim(ctx.session, request['procedure'], request.get('statement_of'))
    claim.status, claim.decided_dt, claim.reason = 'lifted', ctx.now, 'opgeheven door de verzoekende Partij'
    runner.record(ctx, procedure, 'confidentiality_withdrawn', dict(_scope(request), request_procedure=claim.handled_by,
                                                                    reason=claim.reason))
    review = ctx.session.get(Procedure, claim.handled_by)
    if review.status == 'running':
        procedure_store.cancel(ctx.session, review, ctx.now, ctx.actor, 'the requesting party lifted its request')
    _tell(ctx, procedure, 'confidentiality_withdrawn')


def _tell(ctx, procedure, event, **context):
    request = procedure.request
    runner.tell(ctx, procedure, event, notices.everyone(ctx.session, ctx.now), requester_name=request['requester_name'],
                subject=request['procedure_title'], subject_id=request['procedure'],
                statement_of=request.get('statement_of'), grounds=request.get('grounds'), **context)


class ReviewForm(f.CodedSchema):
    decision = f.Choice(('keep', 'lift'), required=True)
    reason = f.Text(required=False)

    @f.validates_schema(skip_on_field_errors=False)
    def lifting_needs_reason(self, data, **kwargs):
        if data.get('decision') == 'lift' and not data.get('reason'):
            raise f.ValidationError({'reason': [f.Coded('geheimhouding.lift_reason_required')]})


TYPE = ProcedureType(
    id='geheimhouding',
    rule=rules.GEGEVENSWISSELING_1,
    start_schema=Start,
    started_by=frozenset({PARTY}),
    start=start,
    # files sent with the request are part of it (documents in the record, issue 12)
    document_purpose='request',
    forms={REVIEW_TASK: TaskForm(ReviewForm, rules.GEGEVENSWISSELING_1)},
    effects={'confidentiality_requested': confidentiality_requested, 'confidentiality_kept': confidentiality_kept,
             'confidentiality_lifted': confidentiality_lifted, 'confidentiality_withdrawn': confidentiality_withdrawn},
    title=lambda procedure: (f"Geheimhouding opheffen: {procedure.request['procedure_title']}"
                             if procedure.request.get('lift') else
                             f"Geheimhouding: {procedure.request['procedure_title']}"),
    deadline=lambda procedure: None,
    messages=('confidentiality_requested', 'confidentiality_kept', 'confidentiality_lifted',
              'confidentiality_withdrawn', 'task_opened', 'overdue'),
    about_procedure=True,
    help='ask that texts of a procedure be kept confidential (or lift your own request)',
)
