"""Database connection and schema migrations. Nothing connects at import time."""
import os
import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / 'migrations'
#: execution option of the engine that reads only: its transactions take no write lock
READ_ONLY = 'citydeal_read_only'


def database_url(environ=os.environ):
    """``CITYDEAL_DATABASE_URL``, else an SQLite file under ``var/`` of the working directory."""
    url = environ.get('CITYDEAL_DATABASE_URL')
    if url:
        return url
    create_private_dir(Path('var'))
    return f'sqlite:///{Path("var/citydeal.db").resolve()}'


def create_private_dir(path):
    """A folder (and any missing folder above it) only its owner can enter, whatever the umask: a folder that
    others may write would let them put their own secret key, seal or database in place of ours."""
    path = Path(path)
    if path.is_dir():
        return path
    create_private_dir(path.parent)
    try:
        path.mkdir(mode=0o700)  # the umask can only take bits away from 0700
    except FileExistsError:
        pass
    return path


def create_private_file(path):
    """An empty file only its owner can read, from the first byte whatever the umask; an existing one is left."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def file_missing(engine):
    """True for an SQLite database whose file is not there yet: nothing to read, and nothing to make by asking."""
    database = engine.url.database if engine.url.get_backend_name() == 'sqlite' else None
    return bool(database) and database != ':memory:' and not database.startswith('file:') and \
        not Path(database).exists()


def make_engine(url):
    if not url.startswith('sqlite'):
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    engine = create_engine(url, connect_args={'timeout': 30})

    @event.listens_for(engine, 'do_connect')
    def _private_file(_dialect, _record, _cargs, _cparams):
        # SQLite would create it with the umask's mode (0644: every local user reads the accounts);
        # its -wal and -shm files take the mode of the database file. Made on the first connection, not
        # with the engine: a command refused before it connects (`init` with a bad deal file) leaves no
        # empty database file behind.
        if database and database != ':memory:' and not database.startswith('file:'):
            create_private_file(database)

    @event.listens_for(engine, 'connect')
    def _sqlite_connect(dbapi_connection, _record):
        # Take transaction control from pysqlite, so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute('PRAGMA busy_timeout=30000')
        # Readers and the one writer do not block each other (the web app reads while commands write).
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.close()

    writer = threading.Lock()

    @event.listens_for(engine, 'begin')
    def _sqlite_begin(connection):
        # A command reads then writes; taking the write lock up front means two commands
        # queue behind each other instead of failing half-way on a lock upgrade. Reads need no lock.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql('BEGIN')
            return
        # Threads of one process queue here, at once, rather than in SQLite's busy handler, which
        # sleeps in growing steps; other processes still wait in the busy handler.
        writer.acquire()
        connection.info['citydeal_writer'] = True
        try:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
        except BaseException:
            _release(connection)
            raise

    def _release(connection, *_):
        if connection.info.pop('citydeal_writer', False):
            writer.release()

    event.listen(engine, 'commit', _release)
    event.listen(engine, 'rollback', _release)

    return engine


def make_session_factory(engine, read_only=False):
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


def upgrade_schema(engine):
    # Only `init` migrates: keep Alembic's import off every other command's start-up.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')
