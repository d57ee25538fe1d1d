"""What is kept from the public (Gegevenswisseling lid 1): the texts of a procedure, or one party's
statement in it, while a request for confidentiality protects them. Read by every public page and export."""
from sqlalchemy import select

from engine.models import ConfidentialityClaim

#: a claim that still protects its texts from the public
PROTECTING = ('requested', 'kept')


def protected(session, procedure_ids=None):
    """{procedure id: {None or party code, ...}}: what is kept from the public, by procedure."""
    query = select(ConfidentialityClaim.procedure_id, ConfidentialityClaim.statement_of).where(
        ConfidentialityClaim.status.in_(PROTECTING))
    if procedure_ids is not None:
        query = query.where(ConfidentialityClaim.procedure_id.in_(list(procedure_ids)))
    result = {}
    for procedure_id, statement_of in session.execute(query):
        result.setdefault(procedure_id, set()).add(statement_of)
    return result


def kept_from_public(session, procedure_id, request):
    """(whole, parties) for one procedure: whether all its texts are kept from the public (marked so by
    the submitter, or asked for by a Party), and the parties whose own statements are."""
    claims = protected(session, [procedure_id]).get(procedure_id, set())
    whole = bool(request.get('confidential', False)) or None in claims
    return whole, frozenset(c for c in claims if c is not None)
