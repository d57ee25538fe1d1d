"""Runs one command in its own process and kills it (SIGKILL) just before its Nth SQL statement.

Usage: crash_driver.py DB_URL NOW KILL_AT COMMAND_JSON. Prints the number of statements when it
was not killed (KILL_AT 0 counts them)."""
import json
import os
import signal
import sys
from datetime import datetime

from sqlalchemy import event

from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from engine.rights import Caller

url, now, kill_at, command = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3]), \
    json.loads(sys.argv[4])
app = CityDeal(url=url, clock=FakeClock(now))
count = 0


@event.listens_for(app.engine, 'before_cursor_execute')
def _count(*_):
    global count
    count += 1
    if count == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


op = command.pop('op')
if op == 'complete':
    app.complete(command['task'], Caller.operator_as(command['as']), command['values'])
elif op == 'tick':
    app.tick()
elif op == 'start_opzegging':
    app.start('opzegging', Caller.operator_as(command['by']), {'circumstances': command['circumstances']})
print(count)
