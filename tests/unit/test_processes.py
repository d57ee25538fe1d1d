"""The BPMN models: valid, drawable in a modeller, in lanes, and fully wired to the engine."""
import xml.etree.ElementTree as ET

import pytest

from engine import procedures as registry
from engine import roles, workflow_runtime

NS = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
      'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI'}
FLOW_NODES = ('startEvent', 'endEvent', 'intermediateCatchEvent', 'boundaryEvent', 'userTask', 'scriptTask',
              'exclusiveGateway', 'parallelGateway')
NAMED = ('startEvent', 'endEvent', 'intermediateCatchEvent', 'boundaryEvent', 'userTask', 'scriptTask')


def model(process_id):
    return ET.parse(workflow_runtime.PROCESSES / f'{process_id}.bpmn').getroot()


@pytest.mark.parametrize('process_id', registry.IDS)
def test_each_model_parses_and_validates_under_its_file_name(process_id):
    spec = workflow_runtime.spec(process_id)
    assert spec.name == process_id


@pytest.mark.parametrize('process_id', registry.IDS)
def test_every_element_has_its_diagram_and_its_lane(process_id):
    root = model(process_id)
    process = root.find('bpmn:process', NS)
    nodes = {e.get('id'): e for kind in FLOW_NODES for e in process.findall(f'bpmn:{kind}', NS)}
    flows = {e.get('id') for e in process.findall('bpmn:sequenceFlow', NS)}
    shapes = {s.get('bpmnElement') for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get('bpmnElement') for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    lanes = process.findall('bpmn:laneSet/bpmn:lane', NS)
    assert nodes.keys() <= shapes and flows <= edges
    assert {lane.get('id') for lane in lanes} <= shapes
    assert root.find('bpmn:collaboration/bpmn:participant', NS).get('processRef') == process_id
    in_lanes = [ref.text for lane in lanes for ref in lane.findall('bpmn:flowNodeRef', NS)]
    assert sorted(in_lanes) == sorted(nodes), 'every element in exactly one lane'
    unnamed = [i for i, e in nodes.items() if e.tag.split('}')[1] in NAMED and not (e.get('name') or '').strip()]
    assert unnamed == []


@pytest.mark.parametrize('process_id', registry.IDS)
def test_timers_are_dates_the_application_computed(process_id):
    """ISO durations overflow at month end in SpiffWorkflow; only timeDate from data is allowed."""
    root = model(process_id)
    for timer in root.iter(f"{{{NS['bpmn']}}}timerEventDefinition"):
        [child] = list(timer)
        assert child.tag.endswith('timeDate') and child.text.isidentifier()


def test_every_user_task_has_a_form_and_every_form_a_task():
    user_tasks = {(pid, e.get('id')) for pid in registry.IDS
                  for e in model(pid).iter(f"{{{NS['bpmn']}}}userTask")}
    assert user_tasks == {(t.id, name) for t in registry.all_types() for name in t.forms}


@pytest.mark.parametrize('process_id', registry.IDS)
def test_every_effect_a_script_asks_for_exists_in_its_type(process_id):
    asked = set()
    for script in model(process_id).iter(f"{{{NS['bpmn']}}}script"):
        asked |= {line.split("'")[1] for line in script.text.splitlines() if line.startswith('effect(')}
    assert asked == set(registry.get(process_id).effects)


def test_user_task_lanes_map_to_a_role_or_the_parties():
    for pid in registry.IDS:
        for spec in workflow_runtime.spec(pid).task_specs.values():
            if getattr(spec, 'manual', False):
                assert spec.lane in roles.BY_LANE or spec.lane == roles.PARTIES_LANE


@pytest.mark.parametrize('process_id', ('wijziging', 'toetreding'))
def test_consent_round_references_resolve_so_a_modeller_keeps_them(process_id):
    """bpmn.io drops a loopDataInputRef/OutputRef that names no element when it saves the file."""
    process = model(process_id).find('bpmn:process', NS)
    declared = {p.get('id') for p in process.findall('bpmn:property', NS)}
    loop = process.find('bpmn:userTask/bpmn:multiInstanceLoopCharacteristics', NS)
    refs = {loop.find(f'bpmn:{ref}', NS).text for ref in ('loopDataInputRef', 'loopDataOutputRef')}
    assert refs == {'consulted', 'answers'} <= declared


def test_an_effect_receives_the_tasks_data_and_not_the_scripts_builtins():
    from datetime import datetime, timezone

    from engine.clock import FakeClock
    clock = FakeClock(datetime(2021, 4, 12, 8, 0, tzinfo=timezone.utc))
    workflow = workflow_runtime.new_workflow(registry.get('opzegging').id, clock,
                                             {'party': 'tiwos', 'effective_at': '2021-07-12T00:00:00+02:00'})
    [(name, data)] = workflow_runtime.advance(workflow)
    assert name == 'notice_received' and data['party'] == 'tiwos'
    assert not any(key.startswith('__') or callable(value) for key, value in data.items()), sorted(data)
