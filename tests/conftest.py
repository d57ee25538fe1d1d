from datetime import datetime, timezone
from pathlib import Path

import gc
import os
import shutil
import time
import uuid

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, inspect, text

from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from engine.dates import AMSTERDAM
from engine.rights import Caller
from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
DEAL_FILE = ROOT / 'deals' / 'energieke-wijken.toml'
#: a Monday inside the term, in Fase 1
START = datetime(2021, 4, 12, 10, 0, tzinfo=AMSTERDAM)


def pytest_configure(config):
    # A test worker keeps half a million objects alive (parsed models, compiled templates, the loaded deals),
    # and each full collection walks them all: with Python's default thresholds that was an eighth of the
    # integration tests' time. Collecting a hundred times less often costs some memory, not correctness.
    gc.set_threshold(50_000, 20, 10)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)


class AppTime:
    """Deal time that runs with the real clock from a chosen start, as CITYDEAL_NOW makes it run, for
    tests of separate processes on the real clock."""

    def __init__(self, start):
        self.offset = start - datetime.now(timezone.utc)

    def now(self):
        return datetime.now(timezone.utc) + self.offset

    def sleep_until(self, moment):
        time.sleep(max(0.0, (moment - self.now()).total_seconds()))


def wait_until(condition, what, seconds=60):
    """For what another process does on the real clock: look every 50 ms, fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f'{what}: not within {seconds} s'
        time.sleep(0.05)


@pytest.fixture(scope='session')
def seal_file(tmp_path_factory):
    """One self-signed seal for the whole run (making a key takes a few tenths of a second)."""
    from engine.seal import make_self_signed
    return make_self_signed(tmp_path_factory.mktemp('seal') / 'seal.p12', 'City Deal test')


@pytest.fixture(autouse=True)
def _files_in_the_test_folder(monkeypatch, tmp_path, seal_file):
    """Stored documents and the seal come from the test's folder, never from the checkout's var/."""
    monkeypatch.setenv('CITYDEAL_DOCUMENTS_DIR', str(tmp_path / 'documents'))
    monkeypatch.setenv('CITYDEAL_SEAL_P12', str(seal_file))
    monkeypatch.delenv('CITYDEAL_SEAL_PASSWORD', raising=False)


@pytest.fixture
def clock():
    return FakeClock(START)


class SqliteDatabases:
    """Databases as files in the test's folder."""
    kind = 'sqlite'

    def __init__(self, folder):
        self.folder, self.count = folder, 0

    def new(self):
        self.count += 1
        return f'sqlite:///{self.folder / f"citydeal-{self.count}.db"}'

    def copy(self, url):
        """A second database with the same content; the first must have no open connections."""
        target = self.new()
        shutil.copy(url.removeprefix('sqlite:///'), target.removeprefix('sqlite:///'))
        return target


class PostgresDatabases:
    """Databases in the throwaway cluster that `make test` starts (CITYDEAL_TEST_POSTGRES is its admin
    URL), each with a name of its own so that parallel test workers never meet; dropped afterwards."""
    kind = 'postgresql'

    def __init__(self, admin):
        self.server = create_engine(admin, isolation_level='AUTOCOMMIT')
        self.base = admin.rsplit('/', 1)[0]
        self.names = []

    def _create(self, template=None):
        name = f'citydeal_test_{uuid.uuid4().hex[:12]}'
        with self.server.connect() as connection:
            # FILE_COPY copies the template's files (a tenth of the time here) where PostgreSQL 15's default
            # writes every page of it to the WAL; a checkpoint costs little in a cluster without fsync
            strategy = ' STRATEGY FILE_COPY' if connection.dialect.server_version_info >= (15,) else ''
            connection.exec_driver_sql(f'CREATE DATABASE {name} TEMPLATE {template or "template1"}{strategy}')
        self.names.append(name)
        return f'{self.base}/{name}'

    def new(self):
        return self._create()

    def copy(self, url):
        """A second database with the same content; the first must have no open connections."""
        return self._create(template=url.rsplit('/', 1)[1])

    def drop_all(self):
        with self.server.connect() as connection:
            for name in self.names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
        self.server.dispose()


@pytest.fixture(params=['sqlite', 'postgresql'])
def databases(request, tmp_path):
    """Every test that touches a database runs twice: on SQLite and on PostgreSQL."""
    if request.param == 'sqlite':
        yield SqliteDatabases(tmp_path)
        return
    admin = os.environ.get('CITYDEAL_TEST_POSTGRES')
    if not admin:
        pytest.skip('PostgreSQL: `make test` starts a cluster and sets CITYDEAL_TEST_POSTGRES')
    databases = PostgresDatabases(admin)
    yield databases
    databases.drop_all()


@pytest.fixture
def db_url(databases):
    return databases.new()


@pytest.fixture
def smtp():
    """A real SMTP server on loopback that keeps what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()


class LoadedDeals:
    """A database per kind and moment with the schema made and the deal loaded, as `citydeal init` leaves
    it, made once per test worker: each test gets a copy of it (a file copy, or PostgreSQL's CREATE
    DATABASE ... TEMPLATE) instead of running every migration again."""

    def __init__(self, folder):
        self.folder, self.made, self.worlds, self.postgres = folder, {}, {}, None

    def copy_for(self, databases, now, accounts=False):
        return databases.copy(self.loaded(databases.kind, now, accounts))

    def world(self, databases, clock, name, build):
        """A copy of the database that ``build(app, clock)`` filled from the loaded deal (made once per worker
        and kind), with its stored documents copied into the test's folder and the clock set where ``build``
        left it; returns (its URL, what ``build`` returned)."""
        key = (databases.kind, name)
        if key not in self.worlds:
            start = clock.now()
            folder = self.folder / f'documents-{len(self.worlds)}'
            instance = CityDeal(url=self._copy(databases.kind, self.loaded(databases.kind, start)), clock=clock,
                                documents_dir=folder)
            built = build(instance, clock)
            self.worlds[key] = (self._closed(instance), folder, built, clock.now())
        url, folder, built, now = self.worlds[key]
        clock.set(now)
        if folder.exists():
            shutil.copytree(folder, os.environ['CITYDEAL_DOCUMENTS_DIR'], dirs_exist_ok=True)
        return databases.copy(url), built

    def loaded(self, kind, now, accounts=False):
        """The database as `citydeal init` at ``now`` leaves it (its URL; not to be written); with ``accounts``,
        also an account for every party and role, as the web tests' sites have them."""
        key = (kind, now, accounts)
        if key not in self.made:
            instance = CityDeal(url=self._new(kind), clock=FakeClock(now))
            instance.init(DEAL_FILE)
            if accounts:
                from tests.web_support import add_accounts, fast_hashing
                with pytest.MonkeyPatch.context() as patch:
                    fast_hashing(patch)
                    add_accounts(instance)
            self.made[key] = self._closed(instance)
        return self.made[key]

    def _new(self, kind):
        if kind == 'sqlite':
            self.count = getattr(self, 'count', 0) + 1
            return f'sqlite:///{self.folder / f"made-{self.count}.db"}'
        self.postgres = self.postgres or PostgresDatabases(os.environ['CITYDEAL_TEST_POSTGRES'])
        return self.postgres.new()

    def _copy(self, kind, url):
        if kind == 'sqlite':
            target = self._new(kind)
            shutil.copy(url.removeprefix('sqlite:///'), target.removeprefix('sqlite:///'))
            return target
        self.postgres = self.postgres or PostgresDatabases(os.environ['CITYDEAL_TEST_POSTGRES'])
        return self.postgres.copy(url)

    @staticmethod
    def _closed(instance):
        instance.close()
        url = instance.engine.url.render_as_string(hide_password=False)
        # the last connection closed wrote the log back into the file: a copy of the file is the whole database
        assert not url.startswith('sqlite') or not Path(url.removeprefix('sqlite:///') + '-wal').exists()
        return url

    def drop(self):
        if self.postgres is not None:
            self.postgres.drop_all()


@pytest.fixture(scope='session')
def loaded_deals(tmp_path_factory):
    made = LoadedDeals(tmp_path_factory.mktemp('loaded'))
    yield made
    made.drop()


@pytest.fixture
def app_url(request, databases, loaded_deals, clock):
    """A database with the deal loaded, as `citydeal init` at the clock's moment leaves it: `app`'s. For a test
    of the web app, with the accounts its site makes already in it (``make_site`` then makes none)."""
    request.node.app_has_accounts = 'make_site' in request.fixturenames
    return loaded_deals.copy_for(databases, clock.now(), accounts=request.node.app_has_accounts)


@pytest.fixture
def app(app_url, clock):
    """The engine on a real database with the deal loaded; every command saves and the next one reloads
    from it."""
    instance = CityDeal(url=app_url, clock=clock)
    yield instance
    instance.close()


def _rows(engine):
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return {t: connection.execute(text(f'SELECT * FROM {t} ORDER BY 1')).fetchall() for t in tables}


def snapshot(app):
    """Every row of every table, to prove a refused command changed nothing."""
    return _rows(app.engine)


def snapshot_of(url):
    """The same for a database that another process writes."""
    engine = create_engine(url)
    try:
        return _rows(engine)
    finally:
        engine.dispose()


def one_task(app, name=None, **who):
    tasks = [t for t in app.tasks(**who) if name is None or t['name'] == name]
    assert len(tasks) == 1, tasks
    return tasks[0]


#: what the scheduler fires on its own around the procedures a test is about
BACKGROUND = ('annual_cycle_start', 'reminder')


def fired(app):
    """What a tick fired, leaving out the yearly cycles and reminders that fall due on the way."""
    return [f.what for f in app.tick() if f.what not in BACKGROUND]


def open_consultation(app, procedure_id):
    [task] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == procedure_id]
    assert task['name'] in ('consultatie_openen', 'criteria_toetsen')
    values = {} if task['name'] == 'consultatie_openen' else {'complete': 'true'}
    complete_task(app, task['id'], 'projectleider', values)


def answer(app, party, decision='consent', statement=None):
    task = one_task(app, party=party)
    values = {'decision': decision}
    if statement is not None:
        values['statement'] = statement
    return complete_task(app, task['id'], party, values)


def consent_all(app, procedure_id, except_=()):
    result = None
    for task in app.tasks():
        if task['procedure_id'] == procedure_id and task['party'] and task['party'] not in except_:
            result = complete_task(app, task['id'], task['party'], {'decision': 'consent',
                                                              'statement': f"{task['party']} stemt in"})
    return result


def start_amendment(app, by='bzk', **extra):
    return start_procedure(app, 'wijziging', by=by, title='Werklijn 5: warmte', text='Voeg werklijn 5 toe.',
                               motivation='Nieuwe inzichten uit de proeftuinen.', **extra)['id']


def start_procedure(app, type_id, by=None, person=None, **values):
    """Start as the command line does: the operator, for the party ``by`` (or the type's role)."""
    values = {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in values.items() if v is not None}
    return app.start(type_id, Caller.operator_as(by, person), values)


def complete_task(app, task_id, acting_for, values=None, person=None):
    return app.complete(task_id, Caller.operator_as(acting_for, person), dict(values or {}))


# --- the web app -------------------------------------------------------------------------------------------

@pytest.fixture
def make_site(request, databases, monkeypatch):
    """The Flask app on the test's database, with an account for every party and role (argon2 at its
    cheapest). ``make(config, city_deal=None, **environment)`` sets the environment first (some settings are
    read at start). It serves the test's ``app``, or another CityDeal given (a second deal); a CityDeal's
    accounts are made with its first site."""
    from tests.web_support import add_accounts, fast_hashing
    from web.app import create_app
    fast_hashing(monkeypatch)
    monkeypatch.setenv('CITYDEAL_SECRET_KEY', 'test-secret')
    with_accounts = []

    def accounts(city_deal):
        if getattr(request.node, 'app_has_accounts', False) and city_deal is request.getfixturevalue('app'):
            return city_deal
        if not any(done is city_deal for done in with_accounts):
            add_accounts(city_deal)
            with_accounts.append(city_deal)
        return city_deal

    def make(config=None, city_deal=None, **environment):
        city_deal = accounts(city_deal or request.getfixturevalue('app'))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        made = create_app(city_deal, dict({'TESTING': True}, **(config or {})))
        made.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        return made
    return make


class CompiledTemplates(BytecodeCache):
    """The web app's templates compiled once per test worker, not once per test (each test makes its own app,
    and compiling was a fifth of the web tests' time); Jinja checks every entry against its template's source."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


@pytest.fixture
def site(make_site):
    return make_site()


@pytest.fixture
def client(site):
    """A browser of the web app, logged in as nobody."""
    from tests.web_support import browser
    return browser(site)


@pytest.fixture
def api(make_site, app):
    """The API through the test client: ``api(method, path, who=None, **kw)``, with a personal token of
    ``who`` (a party code or role) made on first use."""
    client = make_site().test_client()
    tokens = {}

    def call(method, path, who=None, **kw):
        headers = kw.pop('headers', {})
        if who:
            if who not in tokens:
                tokens[who] = app.create_token(f'{who}@deal.example', 'test')[1]
            headers['Authorization'] = f'Bearer {tokens[who]}'
        return client.open(path, method=method, headers=headers, **kw)
    return call


class Ran:
    """What a command-line run gives back, as subprocess.run does."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def command_line(env, cwd):
    """``citydeal(*args, expect=0)``: the command line's own parser, commands and exit codes, run in this
    process with exactly ``env`` (no other CITYDEAL_ setting) in ``cwd``: for integration tests of many
    commands, where a process each would cost a second of imports. tests/e2e runs the real program."""
    import contextlib
    import io
    from citydeal import cli

    def citydeal(*args, expect=0):
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.startswith('CITYDEAL_')]:
                patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            patch.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main(list(args))
                except SystemExit as exit_:
                    code = exit_.code
        done = Ran(code or 0, out.getvalue(), err.getvalue())
        assert done.returncode == expect, (done.stdout, done.stderr)
        return done
    return citydeal
