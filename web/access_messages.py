"""Dutch words for the engine's refusals about access: deputies, delegations, requests to join.

Kept apart from web/messages.py, which puts these first in its list of patterns.
"""
from flask_babel import gettext as _

PATTERNS = [
    (r'no deputy account has this address', lambda m: _(
        'Geen account van een plaatsvervanger met dit e-mailadres. Een plaatsvervanger heeft een persoonlijk '
        'account: geen rolaccount en geen account van een vertegenwoordiger van een Partij.')),
    (r'has already ended', lambda m: _('Deze plaatsvervanging is al beëindigd.')),
    (r"only a party's representative can delegate", lambda m: _(
        'Alleen een vertegenwoordiger van een Partij kan een plaatsvervanger aanwijzen.')),
    (r'must be a single line', lambda m: _('Moet op één regel staan, zonder regeleinde.')),
]
