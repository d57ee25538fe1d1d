"""The raw SpiffWorkflow cycle for one consent, in memory, as a yardstick for the engine.

Run as its own process (``python -m bench.raw_cycle``) so that nothing of the engine is imported:
the engine replaces SpiffWorkflow's timer check with one that asks its clock, and the yardstick
must be the library as shipped. The library reads the real clock; here that clock is held at
the deal time the web app ran at, otherwise the consultation deadline (in 2021) would have
passed and the cycle would close the round instead of recording a consent.

The state comes from the database the web app wrote, so the model (its spec is serialized with
it, parsed from ``processes/``) and the number of parties are the same.
"""
import argparse
import json
import sys
import time
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG


def hold_library_clock_at(moment):
    class HeldClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    timer.datetime = HeldClock


def one_cycle(serializer, scripts, state, task_id, party):
    workflow = serializer.deserialize_json(state)
    workflow.script_engine = scripts
    workflow.refresh_timers()
    task = workflow.get_task_from_id(task_id)
    task.data['answer'] = {'party': party, 'decision': 'consent', 'statement': f'{party} stemt in.'}
    task.run()
    workflow.do_engine_steps()
    return serializer.serialize_json(workflow)


def measure(state, task_id, party, repeats, warmup):
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    # The models' script tasks call effect(name); the engine acts on it, the yardstick does nothing.
    scripts = PythonScriptEngine(environment=TaskDataEnvironment({'effect': lambda name: None}))
    samples = []
    for _ in range(warmup + repeats):
        started = time.perf_counter()
        one_cycle(serializer, scripts, state, task_id, party)
        samples.append((time.perf_counter() - started) * 1000)
    return samples[warmup:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('state', help='a file holding the serialized workflow (JSON)')
    parser.add_argument('--task', required=True, help='the id of a ready consent task in it')
    parser.add_argument('--party', required=True)
    parser.add_argument('--deal-now', required=True, help='ISO 8601 with offset: the deal time to hold the clock at')
    parser.add_argument('--repeats', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    args = parser.parse_args(argv)
    hold_library_clock_at(datetime.fromisoformat(args.deal_now))
    with open(args.state) as file:
        state = file.read()
    json.dump({'samples_ms': measure(state, UUID(args.task), args.party, args.repeats, args.warmup)}, sys.stdout)


if __name__ == '__main__':
    main()
