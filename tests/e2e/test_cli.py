"""The same scenarios as a user types them: the ``citydeal`` command, in its own process for the tests marked
``own_process`` (see the ``citydeal`` fixture)."""
import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import START, command_line, snapshot_of

pytestmark = pytest.mark.cli


@pytest.fixture
def citydeal(databases, loaded_deals, tmp_path, request):
    """The command. Tests marked ``own_process`` run it as the user does, a process of its own per command
    (on SQLite): the program's start, its exit codes, its environment. The others run the same parser and
    commands in this process (command_line), which a process per command would make a second slower each."""
    in_process = databases.kind != 'sqlite' or request.node.get_closest_marker('own_process') is None

    def run(*args, now=None, expect=0):
        env = {'CITYDEAL_DATABASE_URL': run.url, 'CITYDEAL_NOW': now or START.isoformat(), 'PATH': '/usr/bin:/bin'}
        if in_process:
            return command_line(env, tmp_path)(*args, expect=expect)
        done = subprocess.run([sys.executable, '-m', 'citydeal.cli', *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)
        assert done.returncode == expect, (done.stdout, done.stderr)
        return done
    # The database as `citydeal init` at START leaves it, copied; the seal is the run's (CITYDEAL_SEAL_P12), so
    # init would make none. Tests of init itself run it.
    run.url = loaded_deals.copy_for(databases, START)
    return run


def as_json(done):
    return json.loads(done.stdout)


@pytest.mark.rule('Wijzigingen lid 1: consent of all Partijen')
def test_an_amendment_through_all_seventeen_parties(citydeal):
    assert 'energieke-wijken: unchanged' in citydeal('init').stdout
    parties = as_json(citydeal('parties', '--json'))
    assert len(parties) == 17 and set(parties[0]) == {'code', 'name', 'kind', 'status', 'joined_on', 'left_on'}
    started = as_json(citydeal('start', 'wijziging', '--by', 'utrecht', '--title', 'Monitor',
                               '--text', 'Voeg een monitor toe.', '--motivation', 'Meetbaar maken.', '--json'))
    assert started == {'id': 1, 'status': 'running'}
    [opening] = as_json(citydeal('tasks', '--role', 'projectleider', '--json'))
    assert set(opening) == {'id', 'procedure_id', 'procedure_type', 'name', 'party', 'role', 'due'}
    citydeal('complete', opening['id'], '--as', 'projectleider')
    for task in as_json(citydeal('tasks', '--json')):
        done = citydeal('complete', task['id'], '--as', task['party'], '--decision', 'consent',
                        '--statement', f"Akkoord, {task['party']}")
    assert 'completed (adopted)' in done.stdout
    shown = as_json(citydeal('show', '1', '--json'))
    assert (shown['status'], shown['outcome'], len(shown['answers'])) == ('completed', 'adopted', 17)
    [procedure] = as_json(citydeal('procedures', '--json'))
    assert set(procedure) == {'id', 'type', 'status', 'outcome', 'started', 'deadline'}
    [appendix] = as_json(citydeal('appendices', '--json'))
    assert appendix['number'] == 1 and len(appendix['statements']) == 17
    assert set(appendix['statements'][0]) == {'party', 'representative', 'statement', 'date', 'confidential'}
    assert citydeal('audit', 'verify').stdout.startswith('OK')


@pytest.mark.own_process
@pytest.mark.rule('Opzegging lid 1: 3 months notice')
def test_a_withdrawal_and_its_timer(citydeal):
    citydeal('start', 'opzegging', '--by', 'zayaz', '--circumstances', 'Fusie.', now='2021-11-30T15:00:00+01:00')
    assert ' timer ' not in citydeal('tick', now='2022-02-27T12:00:00+01:00').stdout
    assert 'fired: 2022-02-28T00:00:00+01:00 timer (procedure 1)' in citydeal('tick', now='2022-02-28T00:00:05+01:00').stdout
    zayaz = next(p for p in as_json(citydeal('parties', '--json')) if p['code'] == 'zayaz')
    assert zayaz['status'] == 'withdrawn'


@pytest.mark.parametrize('args, field', [
    (('start', 'wijziging', '--by', 'bzk', '--title', ' ', '--text', 'x'), 'title'),
    (('start', 'wijziging', '--by', 'nobody', '--title', 't', '--text', 'x'), 'by'),
    (('start', 'opzegging', '--by', 'bzk', '--circumstances', ''), 'circumstances'),
    (('start', 'toetreding', '--applicant', 'X', '--kind', 'gemeente', '--representative', 'Y',
      '--contribution', 'Z'), 'endorses_goals'),
    (('start', 'toetreding', '--applicant', 'X', '--kind', 'gemeente', '--representative', 'Y',
      '--contribution', ' ', '--endorses-goals'), 'contribution'),
    (('complete', 'no-such-task', '--as', 'bzk', '--decision', 'consent'), 'task'),
    (('complete', 'x', '--as', 'bzk', '--set', 'novalue'), '--set'),
    (('show', '99'), 'procedure'),
])
def test_bad_input_exits_2_names_the_field_and_changes_nothing(citydeal, args, field):
    before = snapshot_of(citydeal.url)
    done = citydeal(*args, expect=2)
    assert f'error: {field}:' in done.stderr and 'nothing was changed' in done.stderr
    assert snapshot_of(citydeal.url) == before


def test_an_objection_without_statement_and_a_malformed_deal_file(citydeal, tmp_path):
    citydeal('start', 'wijziging', '--by', 'bzk', '--title', 't', '--text', 'x')
    opening = as_json(citydeal('tasks', '--role', 'projectleider', '--json'))[0]
    citydeal('complete', opening['id'], '--as', 'projectleider')
    task = as_json(citydeal('tasks', '--party', 'tilburg', '--json'))[0]
    before = snapshot_of(citydeal.url)
    done = citydeal('complete', task['id'], '--as', 'tilburg', '--decision', 'objection', expect=2)
    assert 'error: statement: an objection needs a written statement' in done.stderr
    bad = tmp_path / 'bad.toml'
    bad.write_text('[deal]\nslug = "Bad Slug"\n')
    done = citydeal('init', '--deal', str(bad), expect=2)
    assert 'deal.slug' in done.stderr and 'terms' in done.stderr and 'parties' in done.stderr
    assert snapshot_of(citydeal.url) == before


@pytest.mark.own_process
def test_a_tampered_audit_log_fails_verification(citydeal):
    citydeal('start', 'jaarcyclus', '--year', '2021')
    engine = create_engine(citydeal.url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET event = 'niets' WHERE seq = 2"))
    engine.dispose()
    done = citydeal('audit', 'verify', expect=1)
    assert 'entry 2 was changed' in done.stdout


def first(citydeal, name, *args):
    return next(t['id'] for t in as_json(citydeal('tasks', *args, '--json')) if t['name'] == name)


@pytest.mark.slow
@pytest.mark.rule('Toetreding lid 1: with the consent of all Partijen')
def test_an_accession_through_the_cli(citydeal):
    citydeal('start', 'toetreding', '--applicant', 'Gemeente Eindhoven', '--kind', 'gemeente',
             '--representative', 'de heer R. Thijs, wethouder', '--contribution', 'EUR 10.000 per jaar',
             '--endorses-goals')
    citydeal('complete', first(citydeal, 'criteria_toetsen', '--role', 'projectleider'), '--as', 'projectleider',
             '--set', 'complete=true')
    for task in as_json(citydeal('tasks', '--json')):
        citydeal('complete', task['id'], '--as', task['party'], '--decision', 'consent')
    done = citydeal('complete', first(citydeal, 'partij_vastleggen', '--role', 'projectleider'), '--as', 'projectleider',
                    '--set', 'code=eindhoven', '--set', 'effective_date=2021-07-01',
                    # issue 11: a day other than the next yearly programme's start needs a reason
                    '--set', 'effective_date_reason=Start van Fase 2.')
    assert 'completed (admitted)' in done.stdout
    assert 'eindhoven' in [p['code'] for p in as_json(citydeal('parties', '--json'))]


@pytest.mark.rule('Wijzigingen lid 2: projectleider extends or closes at the deadline')
def test_an_extension_through_the_cli(citydeal):
    citydeal('start', 'wijziging', '--by', 'bzk', '--title', 't', '--text', 'x')
    citydeal('complete', first(citydeal, 'consultatie_openen', '--role', 'projectleider'), '--as', 'projectleider')
    assert 'timer' in citydeal('tick', now='2021-05-25T09:00:00+02:00').stdout
    done = citydeal('complete', first(citydeal, 'verlengen_of_afsluiten', '--role', 'projectleider'),
                    '--as', 'projectleider', '--set', 'choice=extend', '--set', 'new_deadline=2021-06-30',
                    '--set', 'reason=Zomerreces', now='2021-05-25T10:00:00+02:00')
    assert 'running' in done.stdout
    assert as_json(citydeal('show', '1', '--json'))['deadline'] == '2021-06-30T23:59:59+02:00'


@pytest.mark.rule('Jaarcyclus: coalitieoverleg adopts werkplan, communicatieplan and begroting')
def test_an_annual_cycle_through_the_cli(citydeal):
    citydeal('start', 'jaarcyclus', '--year', '2021')
    tasks = {t['name']: t['id'] for t in as_json(citydeal('tasks', '--role', 'projectleider', '--json'))}
    citydeal('complete', tasks['evaluatie_opleveren'], '--as', 'projectleider',
             '--set', 'initiatives_projects=Proeftuinen', '--set', 'goals_deel1=Op koers')
    citydeal('complete', tasks['plannen_opstellen'], '--as', 'projectleider', '--set', 'werkplan_concept=W',
             '--set', 'communicatieplan_concept=C', '--set', 'begroting_concept=B')
    citydeal('complete', first(citydeal, 'coalitieoverleg_besluit', '--role', 'secretaris'), '--as', 'secretaris',
             '--set', 'werkplan=adopted',
             '--set', 'communicatieplan=adopted', '--set', 'begroting=adopted')
    done = citydeal('complete', first(citydeal, 'stuurgroep_besluit', '--role', 'secretaris'), '--as', 'secretaris',
                    '--set', 'next_steps=Opschalen')
    assert 'completed (adopted)' in done.stdout


@pytest.mark.rule('Continuation: consultation at the latest 2 months before the end date')
def test_continuation_and_the_end_of_the_term_through_the_cli(citydeal):
    assert 'continuation_start' in citydeal('tick', now='2024-02-01T08:00:00+01:00').stdout
    citydeal('complete', first(citydeal, 'uitkomst_vastleggen', '--role', 'secretaris'), '--as', 'secretaris',
             '--set', 'result=end',
             now='2024-02-02T08:00:00+01:00')
    assert 'term_end' in citydeal('tick', now='2024-04-01T08:00:00+02:00').stdout
    done = citydeal('start', 'jaarcyclus', '--year', '2024', now='2024-04-01T09:00:00+02:00', expect=2)
    assert 'error: deal: the deal ended on 2024-04-01' in done.stderr


@pytest.mark.own_process
def test_commands_before_init_and_odd_ids_are_refused(citydeal, databases, tmp_path):
    citydeal.url = databases.new()
    done = citydeal('parties', expect=2)
    assert 'run `citydeal init` first' in done.stderr
    citydeal('init')
    assert 'error: procedure:' in citydeal('show', '99999999999999999999999', expect=2).stderr
    assert 'error: deal:' in citydeal('init', '--deal', str(tmp_path), expect=2).stderr
    assert 'error: --anchor' in citydeal('audit', 'verify', '--anchor', 'x', expect=2).stderr


def test_a_refused_init_leaves_no_empty_database_file(tmp_path):
    """Issue 11: `citydeal init` refused (no deal file, a bad one) and a command before any init leave no
    database file behind: not the one CITYDEAL_DATABASE_URL names, not var/citydeal.db."""
    bad = tmp_path / 'bad.toml'
    bad.write_text('[deal]\nslug = "Bad Slug"\n')
    named = tmp_path / 'named.db'
    for url in (f'sqlite:///{named}', None):
        env = {'PATH': '/usr/bin:/bin', 'CITYDEAL_NOW': '2021-04-12T10:00:00+02:00',
               **({'CITYDEAL_DATABASE_URL': url} if url else {})}
        for args in (('init', '--deal', str(bad)), ('init', '--deal', str(tmp_path / 'missing.toml')), ('parties',)):
            done = subprocess.run([sys.executable, '-m', 'citydeal.cli', *args], capture_output=True, text=True,
                                  env=env, cwd=tmp_path, timeout=60)
            assert done.returncode == 2 and 'nothing was changed' in done.stderr, (args, done.stderr)
            assert not named.exists() and list(tmp_path.glob('var/*.db*')) == [], (url, args)


def test_the_calendar_of_upcoming_deadlines(citydeal):
    from icalendar import Calendar
    citydeal('start', 'opzegging', '--by', 'weert', '--circumstances', 'Herindeling.')
    calendar = Calendar.from_ical(citydeal('calendar').stdout)
    events = {str(e['summary']): e.decoded('dtstart').isoformat() for e in calendar.walk('VEVENT')}
    assert events['Opzegging gaat in: Gemeente Weert'] == '2021-07-12T00:00:00+02:00'
    assert events['Einde looptijd City Deal Energieke wijken'] == '2024-04-01T00:00:00+02:00'
    assert events['Uiterlijke start overleg over voortzetting'] == '2024-02-01T00:00:00+01:00'
    assert 'error: party:' in citydeal('calendar', '--party', 'nobody', expect=2).stderr


def test_the_outbox_in_json_gives_each_message_its_text_and_audit_head(citydeal):
    citydeal('start', 'wijziging', '--by', 'utrecht', '--title', 'Monitor', '--text', 'Voeg een monitor toe.')
    listed = as_json(citydeal('outbox', '--json'))
    head = as_json(citydeal('audit', 'verify', '--json'))['head']
    assert listed and all(m['audit_head'].endswith(f':{head}') for m in listed)
    assert all(m['text'].startswith('Geachte ') and 'Gemeente Utrecht' in m['text'] for m in listed)


@pytest.mark.rule('Gegevenswisseling lid 1: on a Party\'s request information is kept confidential, in principle at once')
def test_geheimhouding_from_the_command_line(citydeal):
    pid = as_json(citydeal('start', 'wijziging', '--by', 'utrecht', '--title', 'Begroting 2022',
                           '--text', 'Bedragen per partij.', '--json'))['id']
    asked = as_json(citydeal('start', 'geheimhouding', '--by', 'zeist', '--procedure', str(pid),
                             '--grounds', 'Concurrentiegevoelig.', '--json'))
    assert asked['status'] == 'running'
    assert as_json(citydeal('show', str(pid), '--json'))['confidential'] is True
    refused = citydeal('start', 'geheimhouding', '--by', 'zeist', '--procedure', str(pid), expect=2).stderr
    assert 'error: grounds:' in refused and 'rule: Gegevenswisseling lid 1' in refused
    dutch = citydeal('start', 'geheimhouding', '--by', 'bzk', '--procedure', str(pid), '--lift', expect=2)
    assert 'error: lift:' in dutch.stderr
    lifted = as_json(citydeal('start', 'geheimhouding', '--by', 'zeist', '--procedure', str(pid), '--lift', '--json'))
    assert lifted['status'] == 'completed'
    assert as_json(citydeal('show', str(pid), '--json'))['confidential'] is False
    assert as_json(citydeal('show', str(asked['id']), '--json'))['status'] == 'cancelled'


@pytest.mark.rule('Deal: after its end nothing starts or moves')
@pytest.mark.rule('Toetreding: a financial pledge is owed like a founding contribution')
def test_the_deal_command_pledge_flags_and_the_outbox_text(citydeal):
    deal = as_json(citydeal('deal', '--json'))
    assert deal == dict(deal, status='running', end='2024-04-01', last_day_in_force='2024-03-31', ended_on=None,
                        phase=[1], parties=17)
    started = as_json(citydeal('start', 'toetreding', '--applicant', 'Waterschap Aa en Maas', '--kind', 'waterschap',
                               '--representative', 'de heer D. Jansen', '--contribution', 'Kennis van waterberging',
                               '--pledge-eur', '15000', '--pledge-per', 'year', '--endorses-goals', '--json'))
    shown = as_json(citydeal('show', str(started['id']), '--json'))
    assert (shown['request']['pledge_eur'], shown['request']['pledge_per']) == (15000, 'year')
    refused = citydeal('start', 'toetreding', '--applicant', 'X', '--kind', 'waterschap', '--representative', 'Y',
                       '--contribution', 'Z', '--pledge-eur', '100', '--endorses-goals', expect=2)
    assert 'pledge_per' in refused.stderr
    messages = as_json(citydeal('outbox', '--json'))
    assert messages and all(isinstance(m['text'], str) and m['text'] for m in messages)
    citydeal('start', 'opzegging', '--by', 'zayaz', '--circumstances', 'Fusie.', now='2021-11-30T15:00:00+01:00')
    [task] = [t for t in as_json(citydeal('tasks', '--role', 'projectleider', '--json', now='2021-11-30T15:00:00+01:00'))
              if t['name'] == 'opzegging_bevestigen']
    citydeal('complete', task['id'], '--as', 'projectleider', '--set', 'deal_stands=false',
             '--set', 'reason=Zonder Zayaz geen deal.', now='2021-11-30T15:00:00+01:00')
    citydeal('tick', now='2022-03-01T10:00:00+01:00')
    deal = as_json(citydeal('deal', '--json', now='2022-03-01T10:00:00+01:00'))
    assert (deal['status'], deal['ended_on'], deal['ended_reason']) == ('ended', '2022-02-28', 'deal_does_not_stand')
    refused = citydeal('start', 'opzegging', '--by', 'tiwos', '--circumstances', 'x', now='2022-03-01T10:00:00+01:00',
                       expect=2)
    assert '2022-02-28' in refused.stderr


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_received_on_the_command_line(citydeal):
    started = as_json(citydeal('start', 'opzegging', '--by', 'zayaz', '--circumstances', 'Per brief: fusie.',
                               '--received', '2021-04-01', '--json'))
    shown = as_json(citydeal('show', str(started['id']), '--json'))
    assert (shown['request']['received'], shown['request']['effective_date']) == ('2021-04-01', '2021-07-01')
    # the audit says who entered it: the operator at the command line, not the party's representative
    assert shown['request']['entered_by'] == 'citydeal command line'
    started = next(e for e in shown['timeline'] if e['event'] == 'procedure_started')
    assert started['data']['request']['entered_by'] == 'citydeal command line'
    refused = citydeal('start', 'wijziging', '--by', 'bzk', '--title', 'x', '--text', 'y', '--received', '2021-04-13',
                       expect=2)
    assert refused.stderr.count('error: received:') == 1


@pytest.mark.rule('Consent round: an answer can be revised while the round is open')
def test_revise_on_the_command_line(citydeal):
    citydeal('start', 'wijziging', '--by', 'utrecht', '--title', 'Monitor', '--text', 'Voeg een monitor toe.')
    [opening] = as_json(citydeal('tasks', '--role', 'projectleider', '--json'))
    citydeal('complete', opening['id'], '--as', 'projectleider')
    [task] = as_json(citydeal('tasks', '--party', 'zeist', '--json'))
    citydeal('complete', task['id'], '--as', 'zeist', '--decision', 'objection', '--statement', 'Eerst praten.')
    again = citydeal('complete', task['id'], '--as', 'zeist', '--decision', 'consent', expect=2)
    assert '--revise' in again.stderr
    citydeal('complete', task['id'], '--as', 'zeist', '--decision', 'consent', '--revise')
    shown = as_json(citydeal('show', '1', '--json'))
    assert [a['decision'] for a in shown['answers'] if a['party'] == 'zeist'] == ['consent']


@pytest.mark.rule('Consent round: consent is bound to the text; a new version asks every Party again')
def test_new_version_on_the_command_line(citydeal):
    citydeal('start', 'wijziging', '--by', 'utrecht', '--title', 'Monitor', '--text', 'Voeg een monitor toe.')
    [opening] = as_json(citydeal('tasks', '--role', 'projectleider', '--json'))
    citydeal('complete', opening['id'], '--as', 'projectleider')
    refused = citydeal('new-version', '1', '--as', 'zeist', '--text', 'Anders.', expect=2)
    assert refused.stderr.count('error:') == 1
    citydeal('new-version', '1', '--as', 'projectleider', '--text', 'Voeg een monitor en dashboard toe.',
             '--motivation', 'Na overleg.')
    shown = as_json(citydeal('show', '1', '--json'))
    assert [v['number'] for v in shown['versions']] == [1, 2]
    assert set(shown['versions'][0]) == {'number', 'text', 'sha256', 'created_dt'}
    assert all('text_sha256' in a for a in shown['answers'])
