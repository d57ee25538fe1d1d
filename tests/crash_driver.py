"""Runs one command in a process of its own and kills it (SIGKILL) just before its Nth SQL statement.

The processes are forked by a fork server that has imported the engine once (multiprocessing's
``forkserver``): each command still runs in a fresh process that no other command shared, and dies
by SIGKILL as a crashing server would, but does not pay a second of imports first."""
import multiprocessing
import os
import signal
import traceback

from sqlalchemy import event

from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from engine.rights import Caller

_processes = multiprocessing.get_context('forkserver')
_processes.set_forkserver_preload([__name__])


class Run:
    """How a command's process ended: ``returncode`` (-9 when killed), the statements it ran when it
    was not killed, and the traceback of a command that failed."""

    def __init__(self, returncode, statements=None, error=''):
        self.returncode, self.statements, self.error = returncode, statements, error


def run(url, now, kill_at, command):
    """The command in a new process, killed before its ``kill_at``-th statement (0: never)."""
    receiving, sending = _processes.Pipe(duplex=False)
    process = _processes.Process(target=_command, args=(url, now, kill_at, command, sending))
    process.start()
    sending.close()
    try:
        reply = receiving.recv() if receiving.poll(120) else None
    except EOFError:  # killed: nothing was sent
        reply = None
    finally:
        receiving.close()
    process.join(30)
    if process.exitcode is None:
        process.kill()
        process.join()
    returncode = process.exitcode
    process.close()
    statements, error = reply if reply else (None, '')
    return Run(returncode, statements, error)


def _command(url, now, kill_at, command, reply):
    count = 0
    try:
        app = CityDeal(url=url, clock=FakeClock(now))

        @event.listens_for(app.engine, 'before_cursor_execute')
        def _count(*_):
            nonlocal count
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        command = dict(command)
        op = command.pop('op')
        if op == 'complete':
            app.complete(command['task'], Caller.operator_as(command['as']), command['values'])
        elif op == 'tick':
            app.tick()
        elif op == 'start_opzegging':
            app.start('opzegging', Caller.operator_as(command['by']), {'circumstances': command['circumstances']})
        else:
            raise ValueError(f'unknown op {op!r}')
        app.close()
    except BaseException:  # noqa: BLE001 - sent to the test, which fails with it
        reply.send((None, traceback.format_exc()))
        reply.close()
        os._exit(1)
    reply.send((count, ''))
    reply.close()
