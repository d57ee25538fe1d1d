"""The engine refuses in English with the field and the rule; people read Dutch at the field.

Each pattern turns one kind of engine message into words of the page's language; a message
with no pattern is shown as the engine gave it.
"""
import re

from flask_babel import gettext as _

from web import access_messages

PATTERNS = [
    (r'is required and must not be blank', lambda m: _('Dit veld is verplicht en mag niet leeg zijn.')),
    (r'Missing data for required field', lambda m: _('Dit veld is verplicht.')),
    (r'an objection needs a written statement', lambda m: _('Bij bezwaar is een schriftelijke toelichting verplicht.')),
    (r'the deadline (\S+) has passed', lambda m: _('De termijn is verstreken (%(when)s); antwoorden worden niet '
                                                     'meer aanvaard.', when=m.group(1))),
    (r'was already answered by (\S+) on (\S+)', lambda m: _('Deze taak is al beantwoord door %(party)s op %(when)s.',
                                                            party=m.group(1), when=m.group(2))),
    (r'is no longer open', lambda m: _('Deze taak staat niet meer open: de termijn is verstreken of de procedure '
                                       'is verder.')),
    (r'no open task', lambda m: _('Deze taak staat niet (meer) open.')),
    (r'Not a valid date', lambda m: _('Geen geldige datum (JJJJ-MM-DD).')),
    (r'is not a date', lambda m: _('Geen geldige datum (JJJJ-MM-DD).')),
    (r'Not a valid boolean', lambda m: _('Kies ja of nee.')),
    (r'Must be one of', lambda m: _('Kies een van de mogelijkheden.')),
    (r'Unknown field', lambda m: _('Onbekend veld.')),
    (r'Longer than maximum length (\d+)', lambda m: _('Te lang: ten hoogste %(n)s tekens.', n=m.group(1))),
    (r'is (\d+) characters; at most (\d+) allowed', lambda m: _('Te lang: ten hoogste %(n)s tekens.', n=m.group(2))),
    (r'must not be blank', lambda m: _('Mag niet leeg zijn.')),
    (r'an extension needs a new deadline', lambda m: _('Een verlenging vraagt een nieuwe datum.')),
    (r'an extension needs a reason', lambda m: _('Een verlenging vraagt een reden.')),
    (r'must lie after the current deadline (\S+)', lambda m: _(
        'De nieuwe termijn moet na de huidige (%(when)s) liggen, niet in het verleden en voor het einde van de '
        'looptijd.', when=m.group(1))),
    (r'not adopted needs a reason', lambda m: _('Bij niet vastgesteld is een reden verplicht.')),
    (r'a request returned as incomplete needs a reason', lambda m: _('Geef de reden waarom het verzoek onvolledig is.')),
    (r'continuing needs the proposed new end date', lambda m: _('Voortzetten vraagt de voorgestelde nieuwe einddatum.')),
    (r'must be after the current end date', lambda m: _('De nieuwe einddatum moet na de huidige liggen, ten hoogste '
                                                        'tien jaar later.')),
    (r'the applicant must endorse the goals', lambda m: _('De aanvrager moet de doelstellingen onderschrijven.')),
    (r'is already a party', lambda m: _('Deze organisatie is al Partij.')),
    (r'is already running', lambda m: _('Er loopt al een verzoek van deze organisatie.')),
    (r'is not an e-mail address', lambda m: _('Geen geldig e-mailadres.')),
    (r'the deal ended on (\S+)', lambda m: _('De City Deal is geëindigd op %(when)s.', when=m.group(1))),
    (r'already exists', lambda m: _('Deze procedure bestaat al.')),
    (r'lies outside the term', lambda m: _('Dit jaar ligt buiten de looptijd.')),
    (r'is not a year', lambda m: _('Geen geldig jaar.')),
    (r'only an active party can give notice', lambda m: _('Alleen een actieve Partij kan opzeggen.')),
    (r'withdrew on', lambda m: _('Deze Partij is teruggetreden.')),
    (r'becomes a party on (\S+)', lambda m: _('Deze Partij treedt pas toe op %(when)s.', when=m.group(1))),
    (r'must be after today, differ', lambda m: _('De nieuwe einddatum moet na vandaag liggen, verschillen van de '
                                                 'huidige en ten hoogste tien jaar later liggen.')),
    (r'contains control or direction-changing characters', lambda m: _('Bevat onzichtbare stuur- of '
                                                                        'richtingstekens.')),
    (r'is already the code of a party', lambda m: _('Deze code is al in gebruik.')),
    (r'must lie between today and the end', lambda m: _('De datum moet tussen vandaag en het einde van de looptijd '
                                                         'liggen.')),
    (r'lowercase letters, digits and hyphens', lambda m: _('Alleen kleine letters, cijfers en koppeltekens.')),
    (r'no representative account with this address', lambda m: _('Geen vertegenwoordiger met dit e-mailadres kan '
                                                                 'u vervangen.')),
    (r'you cannot delegate to yourself', lambda m: _('U kunt uzelf niet als plaatsvervanger aanwijzen.')),
    (r'must not be before (\S+)', lambda m: _('Mag niet voor %(day)s liggen.', day=m.group(1))),
    (r'a delegation lasts at most (\d+) days', lambda m: _('Een plaatsvervanging duurt ten hoogste %(n)s dagen.',
                                                           n=m.group(1))),
]


PATTERNS[:0] = access_messages.PATTERNS


def translate(message):
    for pattern, words in PATTERNS:
        found = re.search(pattern, message)
        if found:
            return words(found)
    return message


def by_field(refused):
    """{field: [message]} in the page's language, from a CommandRefused."""
    errors = {}
    for problem in refused.problems:
        errors.setdefault(problem.field, []).append(translate(problem.message))
    return errors
