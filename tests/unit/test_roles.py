"""The roles are declared once (engine/roles.py): the rest of the product asks that module."""
import ast

from engine import roles
from tests.unit.test_registry import PRODUCT, ROOT, _tree

#: the roles' names and their lanes in the models
WORDS = set(roles.NAMES) | set(roles.BY_LANE)
#: a word handed to the translations is a text shown to people ("projectleider" in Dutch), not a role's key
TRANSLATING = {'_', '_l', 'gettext', 'lazy_gettext', 'ngettext', 'pgettext'}


def _literals(path):
    """The role names written as string literals in ``path``, but for the words it hands to be translated."""
    tree = _tree(path)
    shown = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', getattr(node.func, 'attr', None)) in TRANSLATING:
            shown.update(id(arg) for arg in node.args)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in WORDS and id(node) not in shown]


def test_the_scan_finds_the_declarations():
    found = {value for _, value in _literals(ROOT / 'engine' / 'roles.py')}
    assert found == WORDS


def test_a_role_name_is_written_only_in_engine_roles():
    found = [f'{path.relative_to(ROOT)}:{line}: {value!r}' for path in PRODUCT if path != ROOT / 'engine' / 'roles.py'
             for line, value in _literals(path)]
    assert found == []


def test_the_collections_follow_from_the_declarations():
    assert roles.REGISTRARS == (roles.PROJECTLEIDER.name, roles.SECRETARIS.name)
    assert roles.AUDITORS == (roles.AUDITOR.name,)
    assert roles.TASK_ROLES == roles.REGISTRARS
