"""One procedure, one module: the registry's promises, checked on the source itself."""
import ast
from pathlib import Path

import pytest

from engine import procedures as registry
from engine import rules, texts

ROOT = Path(__file__).resolve().parent.parent.parent
#: the product's Python (tests, the benchmark's tooling, BPMN, templates and translations aside)
PRODUCT = [p for folder in ('engine', 'web', 'citydeal', 'notifications') for p in (ROOT / folder).rglob('*.py')
           if 'migrations' not in p.parts]
PROCEDURES = ROOT / 'engine' / 'procedures'


def _tree(path):
    return ast.parse(path.read_text(encoding='utf-8'), filename=str(path))


def test_a_procedure_id_is_written_only_in_its_own_module():
    found = []
    for path in PRODUCT:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Constant) and node.value in registry.TYPES \
                    and path != PROCEDURES / f'{node.value}.py':
                found.append(f'{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}')
    assert found == []


def test_no_module_outside_the_package_imports_a_procedure_module():
    specific = {f'engine.procedures.{type_id}' for type_id in registry.IDS}
    found = []
    for path in PRODUCT:
        if PROCEDURES in path.parents:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {f'{node.module}.{alias.name}' for alias in node.names} | {node.module}
                if names & specific:
                    found.append(f'{path.relative_to(ROOT)}:{node.lineno}')
            elif isinstance(node, ast.Import) and {alias.name for alias in node.names} & specific:
                found.append(f'{path.relative_to(ROOT)}:{node.lineno}')
    assert found == []


def test_every_type_has_its_model_templates_forms_and_words():
    for type_ in registry.all_types():
        assert (ROOT / 'processes' / f'{type_.id}.bpmn').is_file()
        for event in type_.messages:
            assert (ROOT / 'notifications' / 'templates' / f'{event}.txt').is_file(), (type_.id, event)
        for language in texts.LANGUAGES:
            assert texts.catalogue(language).get(f'type.{type_.id}'), (type_.id, language)
            assert texts.catalogue(language).get(f'start.{type_.id}'), (type_.id, language)
            # the words the pages ask of a type that declares them
            for words, declared in (('title', type_.title_params), ('next', type_.next_params)):
                assert not declared or texts.catalogue(language).get(f'{words}.{type_.id}'), (type_.id, words)
        assert type_.started_by, type_.id


#: what raises or builds a refusal with its code as the first argument
REFUSING = {'one', 'Problem', 'Coded', 'refuse', '_refused', '_forbidden'}


def _code(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.count('.') == 1:
        return node.value
    return None


def _codes_in_source():
    """Every code a refusal is made with: the first argument of the calls that make one, and the UPPER
    constants (TOO_MANY = 'login.too_many_attempts') that name one."""
    prefixes = {code.split('.')[0] for code in texts.catalogue('en')}
    codes = {}
    for path in PRODUCT:
        for node in ast.walk(_tree(path)):
            found = []
            if isinstance(node, ast.Call) and node.args:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, 'id', '')
                if name in REFUSING:
                    found.append(_code(node.args[0]))
            elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
                code = _code(node.value)
                if code and code.split('.')[0] in prefixes:
                    found.append(code)
            for code in filter(None, found):
                codes.setdefault(code, f'{path.relative_to(ROOT)}:{node.lineno}')
    # marshmallow's own errors, turned into codes by the fields
    from engine.procedures import fields
    for cls in (fields.Text, fields.Choice, fields.YesNo, fields.Day, fields.Number):
        codes.update({code: 'engine/procedures/fields.py' for code in cls.default_error_messages.values()})
    codes.update({code: 'engine/procedures/fields.py' for code in fields.CodedSchema.error_messages.values()})
    return codes


def test_every_code_of_a_refusal_has_a_dutch_and_an_english_text():
    codes = _codes_in_source()
    assert len(codes) > 80  # the scan finds them; a broken scan would pass with none
    missing = {code: where for code, where in codes.items()
               if not texts.catalogue('nl').get(code) or not texts.catalogue('en').get(code)}
    assert missing == {}
    assert set(texts.catalogue('nl')) == set(texts.catalogue('en'))


def test_a_text_fills_in_its_parameters_and_dates_read_as_words_in_dutch():
    from datetime import date
    from engine.errors import Problem
    problem = Problem('deal.ended', 'deal', {'end': date(2024, 4, 1)}, rules.LOOPTIJD_1)
    assert problem.message('nl') == 'De deal is geëindigd op 1 april 2024; er kan niets meer gebeuren.'
    assert str(problem) == 'deal: the deal ended on 2024-04-01; its procedures are closed (rule: ' \
                           'Inwerkingtreding en looptijd lid 1)'
    assert problem.as_dict()['code'] == 'deal.ended'


def test_a_rule_is_a_named_constant_never_a_string():
    from engine.errors import Problem
    with pytest.raises(TypeError):
        Problem('field.required', 'title', {}, 'Wijzigingen lid 1')
    cited, strings = set(), []
    for path in (ROOT / 'engine').rglob('*.py'):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == 'rules':
                cited.add(node.attr)
            if isinstance(node, ast.keyword) and node.arg == 'rule' and isinstance(node.value, ast.Constant) \
                    and node.value.value:
                strings.append(f'{path.relative_to(ROOT)}:{node.value.lineno}')
    assert strings == []
    constants = {name for name in cited if name.isupper() and name not in ('ALL', 'KEYS')}
    assert constants and all(isinstance(getattr(rules, name), rules.Rule) for name in constants)


def test_the_opzegging_contribution_rule_is_cited_as_the_deal_text_numbers_it():
    assert rules.OPZEGGING_3.clause == 'Opzegging lid 3'
    assert len({r.clause for r in rules.ALL}) == len(rules.ALL)


def test_no_template_branches_on_a_procedure_id_or_a_task_name():
    """A page or a message asks what the type declares (``title_params``, ``next_params``, ``applicant``,
    ``about_procedure``); only a type's own start page (start_<id>.html) names its id."""
    import re
    names = set(registry.TYPES) | {name for type_ in registry.all_types() for name in type_.forms}
    quoted = re.compile(r"""['"](%s)['"]""" % '|'.join(map(re.escape, sorted(names))))
    found = []
    for folder in ('web/templates', 'engine/templates', 'notifications/templates'):
        for path in (ROOT / folder).rglob('*'):
            if not path.is_file() or path.suffix not in ('.html', '.txt'):
                continue
            for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
                for match in quoted.finditer(line):
                    if path.name != f'start_{match.group(1)}.html':
                        found.append(f'{path.relative_to(ROOT)}:{number}: {match.group(0)}')
    assert found == []
