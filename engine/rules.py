"""The clauses of the deal text that the engine cites, numbered as the text numbers them.

Every refusal and every rule the engine enforces names one of these; a test checks that no rule
is cited in ``engine/`` by any other means (a string typed where it is used drifts: the
contribution rule was once cited as "Opzegging lid 3", "lid 4" and "Opzegging 4").
"""
from contextvars import ContextVar
from dataclasses import dataclass, field

#: the loaded deal's own names for the clauses (its ``[clauses]`` table), by rule key; set when a
#: command reads the deal, so that a refusal cites the clause of the deal it concerns
_CLAUSES = ContextVar('clauses', default=None)


@dataclass(frozen=True)
class Rule:
    #: the heading and paragraph of the deal text the engine was first written for, e.g. "Wijzigingen lid 1";
    #: a deal file names its own (``[clauses] wijzigingen_1 = "Artikel 9 lid 1"``)
    clause: str
    #: the constant's name in lower case, e.g. ``wijzigingen_1``: the key a deal file's ``[clauses]`` uses
    key: str = field(default='', compare=False)

    def __str__(self):
        return (_CLAUSES.get() or {}).get(self.key, self.clause)


def cite_from(clauses):
    """The clauses of the deal now loaded: every rule cited from here on uses them."""
    _CLAUSES.set(dict(clauses))


WIJZIGINGEN_1 = Rule('Wijzigingen lid 1')
WIJZIGINGEN_2 = Rule('Wijzigingen lid 2')
WIJZIGINGEN_3 = Rule('Wijzigingen lid 3')
OPZEGGING_1 = Rule('Opzegging lid 1')
OPZEGGING_2 = Rule('Opzegging lid 2')
OPZEGGING_3 = Rule('Opzegging lid 3')
TOETREDING_1 = Rule('Toetreding nieuwe Partijen lid 1')
TOETREDING_2 = Rule('Toetreding nieuwe Partijen lid 2')
TOETREDING_3 = Rule('Toetreding nieuwe Partijen lid 3')
TOETREDING_4 = Rule('Toetreding nieuwe Partijen lid 4')
AANSLUITEN = Rule('Deel 2, Aansluiten nieuwe deelnemers')
GEGEVENSWISSELING_1 = Rule('Gegevenswisseling lid 1')
LOOPTIJD_1 = Rule('Inwerkingtreding en looptijd lid 1')
LOOPTIJD_2 = Rule('Inwerkingtreding en looptijd lid 2')
MONITORING = Rule('Deel 4, Monitoring en evaluatie')
GOVERNANCE = Rule('Deel 4, Governance')
#: not a clause of the deal: the shape of the deal file itself
DEAL_FILE = Rule('deal file format')
#: not a clause of the deal: what a document in the record may be (types, size)
DOCUMENTS = Rule('documents')
#: not a clause of the deal: who may act in this installation (accounts, roles, delegation)
ACCESS = Rule('access')

for _name, _value in dict(globals()).items():
    if isinstance(_value, Rule):
        object.__setattr__(_value, 'key', _name.lower())

ALL = tuple(value for name, value in dict(globals()).items() if isinstance(value, Rule) and not name.startswith('_'))
KEYS = tuple(rule.key for rule in ALL)
