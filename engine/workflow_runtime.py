"""SpiffWorkflow, set up once: parsed models, a clock-aware timer, the serializer, effects.

Our models use only ``timeDate`` timers whose value the application computes (legal
month arithmetic in Europe/Amsterdam). SpiffWorkflow compares them with the real
``datetime.now``; we make it ask the engine's clock instead, so that tests and
``CITYDEAL_NOW`` control when a deadline passes.
"""
from functools import lru_cache
from uuid import UUID
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.roles import BY_LANE, PARTIES_LANE

PROCESSES = Path(__file__).resolve().parent.parent / 'processes'


def _time_date_has_fired(self, my_task):
    event_value = my_task._get_internal_data('event_value')
    if event_value is None:
        event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        my_task._set_internal_data(event_value=event_value)
    if TimerEventDefinition.parse_time_or_duration(event_value) <= my_task.workflow.script_engine.clock.now():
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data('event_fired', False)


TimeDateEventDefinition.has_fired = _time_date_has_fired


class EngineScripts(PythonScriptEngine):
    """Script engine for one command: knows the clock and collects the effects scripts ask for.

    Not serialized by SpiffWorkflow: a new one is attached after every load.
    """

    def __init__(self, clock):
        self.clock = clock
        self.effects = []
        self._task = None
        super().__init__(environment=TaskDataEnvironment({'effect': self._effect}))

    def execute(self, task, script, external_context=None):
        self._task = task
        try:
            return super().execute(task, script, external_context)
        finally:
            self._task = None

    def _effect(self, name):
        # The task's data travels with the effect: what the model knew at that point. While a script
        # runs, SpiffWorkflow lends that data its globals (``effect``, ``__builtins__``): not the task's.
        self.effects.append((name, {k: v for k, v in self._task.data.items()
                                    if not k.startswith('__') and not callable(v)}))


@lru_cache(maxsize=None)
def spec(process_id):
    if not (PROCESSES / f'{process_id}.bpmn').is_file():
        raise KeyError(process_id)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(PROCESSES / f'{process_id}.bpmn'))
    return parser.get_spec(process_id)


_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
STATE_FORMAT = _serializer.VERSION


def new_workflow(process_id, clock, data):
    scripts = EngineScripts(clock)
    workflow = BpmnWorkflow(spec(process_id), script_engine=scripts)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def dump(workflow):
    return _serializer.serialize_json(workflow)


def load(state, clock):
    workflow = _serializer.deserialize_json(state)
    workflow.script_engine = EngineScripts(clock)
    return workflow


def advance(workflow):
    """Fire what is due and run every automatic step; return the effects asked for, in order."""
    workflow.refresh_timers()
    workflow.do_engine_steps()
    effects = list(workflow.script_engine.effects)
    workflow.script_engine.effects.clear()
    return effects


def ready_tasks(workflow):
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def next_timer(workflow):
    """The earliest due time among the workflow's waiting timers, or None."""
    due = [TimerEventDefinition.get_datetime(event.value) for event in workflow.waiting_events()
           if event.event_type == 'TimeDateEventDefinition' and event.value]
    return min(due) if due else None


def task_owner(task):
    """(party code, role) of a ready user task."""
    lane = task.task_spec.lane
    if lane == PARTIES_LANE:
        return task.data['party'], None
    return None, BY_LANE[lane]


def find_task(workflow, task_id):
    """The task of that id, or None: a deadline that fired removes the tasks it cancelled, and
    SpiffWorkflow raises for an id it no longer holds."""
    return workflow.tasks.get(UUID(str(task_id)))


def is_ready(task):
    return task is not None and task.state == TaskState.READY

