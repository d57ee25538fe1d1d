"""The written request or notice as it arrived: the day it reached the projectleider and secretaris.

Every period of a request (the six weeks to open the consultation, the notice period) counts from
the day it was *received*, not from the moment it was typed in: a letter received on the 1st and
entered on the 10th counts from the 1st. A start schema names the field ``received`` (a Day; empty
means today). The audit's own time and person say when, and by whom, it was entered.

The projectleider and secretaris may register a paper request or notice for a Party (engine.rights
gives them an Actor with ``registered_by``): then ``received`` is required, because only a paper
document that has reached them can be registered on a party's behalf.
"""
from engine.dates import local_date
from engine.errors import CommandRefused
from engine.procedures import fields as f


def on_paper(type_):
    """A type whose request or notice may arrive on paper: its start schema names ``received``."""
    return 'received' in type_.start_schema().fields


def received_field():
    return f.Day(load_default=None)


def received_day(ctx, values, rule):
    """The checked received day of ``values`` (today when empty); refused in the future, before the
    term, or missing on a registration for a party."""
    day = values.get('received')
    today = local_date(ctx.now)
    if day is None:
        if getattr(ctx.actor, 'registered_by', None):
            raise CommandRefused.one('received.required_for_registration', 'received', rule)
        return today
    if day > today:
        raise CommandRefused.one('received.in_future', 'received', rule, day=day, today=today)
    if day < ctx.deal.start_date:
        raise CommandRefused.one('received.before_term', 'received', rule, day=day, start=ctx.deal.start_date)
    return day


def received_problems(ctx, raw, rule):
    """What ``received_day`` would refuse in the raw start values, as problems, so that a start reports them
    with the other fields' (a bad day itself is the schema's to name)."""
    try:
        day = f.Day(load_default=None).deserialize(raw.get('received')) if isinstance(raw, dict) else None
    except f.ValidationError:
        return []
    try:
        received_day(ctx, {'received': day}, rule)
    except CommandRefused as refused:
        return list(refused.problems)
    return []


def entry(ctx, day):
    """What the request keeps of its arrival: the day it was received and who entered it, when."""
    return {'received': day.isoformat(), 'entered_dt': ctx.now.isoformat(),
            'entered_by': getattr(ctx.actor, 'entered_by', None) or ctx.actor.person or None,
            'registered_by': getattr(ctx.actor, 'registered_by', None)}
