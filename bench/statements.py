"""The consent POST's data path, counted: SQL statements sent and transactions that wrote, for one
consent confirmed through the web app, in-process, on the real deal file (SQLAlchemy events)."""
from sqlalchemy import event

from bench import deals, profiling, seeding

#: what issue 10 asks of the path
MAX_STATEMENTS = 12
MAX_WRITE_TRANSACTIONS = 1


def measure(scratch, progress):
    url = seeding.database_url(scratch, 'statements')
    app = seeding.city_deal(url, deals.REAL_DEAL)
    seeding.add_accounts(app, [p['code'] for p in app.parties()])
    seeding.open_amendment(app)
    party = next(t['party'] for t in app.tasks() if t['party'])
    task = next(t['id'] for t in app.tasks(party=party))
    app.close()
    city, new_client = profiling._client(url)
    client = profiling._login(new_client, party)
    token = profiling._token(client.get(f'/taken/{task}'))
    statements, transactions = [], []

    def begin(connection):
        transactions.append(False)

    def execute(connection, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ('BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE'):
            return
        statements.append(verb)
        if verb in ('INSERT', 'UPDATE', 'DELETE') and transactions:
            transactions[-1] = True
    event.listen(city.engine, 'begin', begin)
    event.listen(city.engine, 'before_cursor_execute', execute)
    try:
        answer = client.post(f'/taken/{task}/bevestigen', data={'decision': 'consent', 'statement': 'Akkoord.',
                                                                 'csrf_token': token})
    finally:
        event.remove(city.engine, 'begin', begin)
        event.remove(city.engine, 'before_cursor_execute', execute)
        city.close()
    if answer.status_code != 302:
        raise RuntimeError(f'the consent answered {answer.status_code}')
    figures = {'statements_per_consent': len(statements), 'transactions_per_consent': len(transactions),
               'write_transactions_per_consent': transactions.count(True)}
    progress(f"  consent POST: {figures['statements_per_consent']} statements, "
             f"{figures['write_transactions_per_consent']} write transaction(s) of {figures['transactions_per_consent']}")
    return figures
