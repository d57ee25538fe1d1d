"""The deal register: the deal, its parties and their status."""
from functools import lru_cache

from sqlalchemy import select

from engine import audit, rules
from engine import names as name_rules
from engine.dates import add_months, local_date, start_of_day
from engine.deal_file import from_canonical_json
from engine.errors import CommandRefused, NotFound
from engine.models import Deal, Party

#: parties that still take part in consultations (Opzegging: until the notice takes effect)
CONSULTED_STATUSES = ('active', 'withdrawing')


def definition(deal):
    return _parsed(deal.definition_json)


@lru_cache(maxsize=8)
def _parsed(definition_json):
    # Parsing and checking the stored file takes a few milliseconds; commands ask for it often.
    return from_canonical_json(definition_json)


def load_deal(session, deal_definition, now, actor):
    """Create the deal and its parties; a second run with the same file changes nothing."""
    existing = session.scalars(select(Deal)).first()
    if existing is not None:
        if existing.definition_json == deal_definition.canonical_json:
            return existing, 'unchanged'
        if definition(existing).content_json != deal_definition.content_json:
            raise CommandRefused.one('deal.other_file', 'deal', rules.WIJZIGINGEN_1, slug=existing.slug)
        _update_contacts(session, existing, deal_definition, now, actor)
        return existing, 'contacts updated'

    deal = Deal(slug=deal_definition.slug, name=deal_definition.name, citeertitel=deal_definition.citeertitel,
                start_date=deal_definition.start, end_date=deal_definition.end, status='active',
                definition_json=deal_definition.canonical_json)
    session.add(deal)
    session.flush()
    for party in deal_definition.parties:
        session.add(Party(deal_id=deal.id, code=party.code, name=party.name, kind=party.kind, email=party.email,
                          representatives=list(party.representatives),
                          annual_contribution_eur=party.annual_contribution_eur,
                          contribution_text=describe_contribution(party), status='active',
                          joined_on=deal_definition.start))
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='deal_loaded',
                 data={'slug': deal.slug, 'parties': [p.code for p in deal_definition.parties],
                       'start': str(deal.start_date), 'end': str(deal.end_date)})
    return deal, 'loaded'


def _update_contacts(session, deal, deal_definition, now, actor):
    emails = {p.code: p.email for p in deal_definition.parties}
    changed = {}
    for party_ in parties(session):
        if party_.code in emails and party_.email != emails[party_.code]:
            changed[party_.code] = emails[party_.code]
            party_.email = emails[party_.code]
    deal.definition_json = deal_definition.canonical_json
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='contacts_updated',
                 data={'party_emails': changed,
                       'roles': {r: {'name': v.name, 'email': v.email} for r, v in deal_definition.roles.items()}})


def describe_contribution(party):
    parts = [f"EUR {c.amount_eur:,} {'per jaar' if c.per == 'year' else 'eenmalig'}".replace(',', '.')
             + (f' ({c.source})' if c.source else '') for c in party.contributions]
    if party.in_kind:
        parts.append(party.in_kind)
    return '; '.join(parts)


def parties(session):
    return session.scalars(select(Party).order_by(Party.id)).all()


def names(session):
    """{code: name} of every party, read once per session (a party's name never changes; one admitted
    meanwhile is added by ``remember``)."""
    if 'party_names' not in session.info:
        session.info['party_names'] = dict(session.execute(select(Party.code, Party.name)).all())
    return session.info['party_names']


def remember(session, party_):
    """A party just added in this session: known to ``party`` and ``names`` from now on."""
    session.info.setdefault('parties', {})[party_.code] = party_
    if 'party_names' in session.info:
        session.info['party_names'][party_.code] = party_.name


def party(session, code, field='party'):
    """The party of that code. Kept in the session once read: a command asks for the same party in its
    rights, its effects and its messages, and the identity map returns the one object anyway."""
    known = session.info.setdefault('parties', {})
    if code in known:
        return known[code]
    found = session.scalars(select(Party).where(Party.code == code)).first()
    if found is not None:
        known[code] = found
    if found is None:
        raise NotFound.one('party.not_found', field, party_code=code, known=[p.code for p in parties(session)])
    return found


def consulted_parties(session, today, excluding=None):
    """Every party whose consent is needed today: active or withdrawing, already joined."""
    return [p for p in parties(session)
            if p.status in CONSULTED_STATUSES and p.joined_on <= today and p.code != excluding]


def term_end_instant(deal):
    """'eindigt op 1 april 2024': from that day on the deal is no longer in force."""
    return start_of_day(deal.end_date)


def continuation_start_instant(deal):
    definition_ = definition(deal)
    return start_of_day(add_months(deal.end_date, -definition_.terms.continuation_months_before_end))


def require_in_force(deal, now):
    """Nothing starts or moves outside the term, even before `tick` has marked the deal ended."""
    if deal.status == 'ended' and deal.ended_reason and deal.ended_on and deal.ended_on < deal.end_date:
        raise CommandRefused.one('deal.ended_early', 'deal', rules.OPZEGGING_2, ended_on=deal.ended_on,
                                 reason=deal.ended_reason)
    if deal.status == 'ended' or now >= term_end_instant(deal):
        raise CommandRefused.one('deal.ended', 'deal', rules.LOOPTIJD_1, end=deal.end_date)
    if local_date(now) < deal.start_date:
        raise CommandRefused.one('deal.not_started', 'deal', rules.LOOPTIJD_1, start=deal.start_date)


MAX_PERSON = 300


def checked_person(person):
    """A named acting person, or None; a blank or over-long name is refused."""
    if person is None:
        return None
    code = name_rules.problem(person)
    if code:
        raise CommandRefused.one(code, 'person', rules.ACCESS)
    person = name_rules.normalised(person)
    if not person or len(person) > MAX_PERSON:
        raise CommandRefused.one('person.invalid', 'person', rules.ACCESS, max=MAX_PERSON)
    return person


def person_for(party_, person):
    """The acting person: the one named, else the party's first representative as signed."""
    return checked_person(person) or party_.representatives[0]


def require_joined(party_, today, field='by'):
    if party_.joined_on > today:
        raise CommandRefused.one('party.not_yet_joined', field, rules.TOETREDING_3, party=party_.name,
                                 joined_on=party_.joined_on)


def require_member(party_, today, field='by'):
    """A Party today: joined, and not withdrawn (a party in its notice period still is one)."""
    require_joined(party_, today, field)
    if party_.status not in CONSULTED_STATUSES:
        raise CommandRefused.one('party.withdrawn', field, rules.OPZEGGING_1, party=party_.name,
                                 left_on=party_.left_on)
