"""Dutch words for the engine's refusals and audit events about access: deputies, delegations,
requests to join, accounts closed with a party.

Kept apart from web/messages.py, which puts these patterns first in its list, and web/labels.py,
which adds these events to its own.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

EVENTS = {
    'delegation_revoked': _l('Plaatsvervanging beëindigd'), 'delegation_expired': _l('Plaatsvervanging afgelopen'),
    'account_closed': _l('Toegang beëindigd met de Partij'), 'api_token_revoked': _l('API-token ingetrokken'),
}

PATTERNS = [
    (r'no deputy account has this address', lambda m: _(
        'Geen account van een plaatsvervanger met dit e-mailadres. Een plaatsvervanger heeft een persoonlijk '
        'account: geen rolaccount en geen account van een vertegenwoordiger van een Partij.')),
    (r'has already ended', lambda m: _('Deze plaatsvervanging is al beëindigd.')),
    (r"only a party's representative can delegate", lambda m: _(
        'Alleen een vertegenwoordiger van een Partij kan een plaatsvervanger aanwijzen.')),
    (r'must be a single line', lambda m: _('Moet op één regel staan, zonder regeleinde.')),
]
