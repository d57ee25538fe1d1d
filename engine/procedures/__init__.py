"""The procedure types, one module each, and the registry that collects them.

To add a type: its BPMN model in ``processes/<id>.bpmn``, a module here that fills in a
``ProcedureType`` (start schema, who may start it, task forms, effects, title, messages), its message
templates in ``notifications/templates/``, its codes in the catalogues, its tests; then list it below.
Nothing outside this package names a type: commands, pages, the API and the scheduler ask the registry.
"""
from engine import roles
from engine.errors import NotFound
from engine.procedures import consent_round, geheimhouding, jaarcyclus, opzegging, paper, toetreding, voortzetting, wijziging
from engine.procedures.base import PARTY, PUBLIC, AutoStart, ProcedureType, TaskForm  # noqa: F401

TYPES = {module.TYPE.id: module.TYPE for module in (wijziging, toetreding, opzegging, jaarcyclus, voortzetting,
                                                   geheimhouding)}
IDS = tuple(TYPES)
#: the task a party answers in a consent round, and who registers a written request on paper
CONSENT_TASK = consent_round.CONSENT_TASK
REGISTRARS = roles.REGISTRARS
on_paper = paper.on_paper


def get(type_id):
    try:
        return TYPES[type_id]
    except KeyError:
        raise NotFound.one('procedure.unknown_type', 'type', type=type_id, known=IDS) from None


def all_types():
    return tuple(TYPES.values())


def public_request():
    """The type anyone may start with a written request (to join the deal)."""
    return next(t for t in TYPES.values() if PUBLIC in t.started_by)


def auto_starts():
    return [(type_, auto) for type_ in TYPES.values() for auto in type_.auto_starts]


def form(procedure_type, task_name):
    return get(procedure_type).forms[task_name]
