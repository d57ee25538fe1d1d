"""The project's own processes, started as an operator would: the web app under gunicorn, the
scheduler, the mail sink. Each is stopped when its ``with`` block ends, whatever happened in it."""
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

STARTUP_SECONDS = 60


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid):
    """VmHWM: the most resident memory the process ever had, in MB (None once it has gone)."""
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmHWM:'):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def children_of(pid):
    try:
        return [int(child) for child in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]
    except OSError:
        return []


class Child:
    def __init__(self, name, process, log_path):
        self.name, self.process, self.log_path = name, process, log_path

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        return self.log_path.read_text(errors='replace')

    def peak_rss_mb(self):
        """Of the process and its children (gunicorn's workers): the largest."""
        figures = [peak_rss_mb(pid) for pid in [self.pid, *children_of(self.pid)]]
        return max((f for f in figures if f is not None), default=None)

    def require_alive(self):
        if self.process.poll() is not None:
            raise RuntimeError(f'{self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}')


@contextmanager
def running(name, argv, scratch, env):
    log_path = Path(scratch) / f'{name}.log'
    with open(log_path, 'w') as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=scratch,
                                   env=dict(os.environ, **env), start_new_session=True)
    child = Child(name, process, log_path)
    try:
        yield child
    finally:
        _stop(process)


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # The whole session: a gunicorn worker must not outlive its master.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_port(child, port):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        child.require_alive()
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f'{child.name} did not listen on port {port} within {STARTUP_SECONDS} s:\n{child.log()[-3000:]}')


def _wait_for_line(child, text):
    deadline = time.monotonic() + STARTUP_SECONDS
    while text not in child.log():
        child.require_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f'{child.name} did not say {text!r} within {STARTUP_SECONDS} s:\n{child.log()[-3000:]}')
        time.sleep(0.05)


def engine_env(database_url, deal_now):
    """The settings every process of one world shares: its database and its deal clock."""
    return {'CITYDEAL_DATABASE_URL': database_url, 'CITYDEAL_NOW': deal_now.isoformat()}


@contextmanager
def web_app(scratch, database_url, deal_now):
    """gunicorn with one sync worker, as the README runs it in production (there with three)."""
    port = free_port()
    env = dict(engine_env(database_url, deal_now), CITYDEAL_SECRET_KEY=secrets.token_hex(32))
    argv = [sys.executable, '-m', 'gunicorn', '--workers', '1', '--bind', f'127.0.0.1:{port}', 'web.wsgi:app']
    with running(f'web-{port}', argv, scratch, env) as child:
        _wait_for_port(child, port)
        child.port = port
        yield child


@contextmanager
def mail_sink(scratch):
    port = free_port()
    argv = [sys.executable, '-m', 'citydeal.cli', 'mail-sink', '--port', str(port), '--dir', str(Path(scratch) / 'mail')]
    with running('mail-sink', argv, scratch, {}) as child:
        _wait_for_port(child, port)
        child.port = port
        yield child


@contextmanager
def scheduler(scratch, database_url, deal_now, smtp_port):
    env = dict(engine_env(database_url, deal_now), CITYDEAL_SMTP_HOST='127.0.0.1', CITYDEAL_SMTP_PORT=str(smtp_port))
    argv = [sys.executable, '-m', 'citydeal.cli', 'scheduler']
    with running('scheduler', argv, scratch, env) as child:
        _wait_for_line(child, 'took the lease')
        yield child
