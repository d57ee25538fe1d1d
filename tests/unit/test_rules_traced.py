"""Every rule of the deal has a test that names it, and every named rule is a known one."""
import ast
from functools import cache
from pathlib import Path

from tests.rules import RULES


@cache
def named_rules():
    found = set()
    for path in Path(__file__).parent.parent.rglob('test_*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'rule'
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
    return found


def test_every_rule_has_a_test():
    assert [rule for rule in RULES if rule not in named_rules()] == []


def test_every_named_rule_is_known():
    assert sorted(named_rules() - set(RULES)) == []
