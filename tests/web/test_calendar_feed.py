"""A calendar that follows the person (issue 14, point 5): a private address from /account,
/agenda/<secret>.ics, with the deadlines of the person's own tasks and the deal's key dates, each with
a reminder alarm; revocable and regenerable; gone with the person's access."""
import re
from datetime import datetime

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.dates import AMSTERDAM
from engine.models import CalendarFeed
from tests.conftest import open_consultation, start_amendment, start_procedure
from tests.web_support import browser

BASE = 'https://deal.example'


@pytest.fixture
def site(make_site):
    return make_site(CITYDEAL_BASE_URL=BASE + '/')


def new_address(b):
    page = b.post('/account/agenda', {'action': 'create'}, token_from='/account')
    assert page.status_code == 200
    return re.search(r'<code id="agenda-url">([^<]+)</code>', page.get_data(as_text=True)).group(1)


def fetch(site, url):
    """As a calendar program does: no login, no cookies."""
    assert url.startswith(BASE + '/agenda/') and url.endswith('.ics'), url
    return site.test_client().get(url.removeprefix(BASE))


def events(response):
    assert response.status_code == 200 and response.mimetype == 'text/calendar'
    return {str(e['uid']): e for e in Calendar.from_ical(response.get_data()).walk('VEVENT')}


def test_the_calendar_holds_the_persons_tasks_and_the_deals_key_dates_with_an_alarm(site, app):
    procedure = start_amendment(app)
    open_consultation(app, procedure)
    [task] = [t for t in app.tasks(party='tiwos') if t['procedure_id'] == procedure]
    b = browser(site, 'tiwos')
    assert 'U hebt nog geen agenda-adres.' in b.get('/account').get_data(as_text=True)

    found = events(fetch(site, new_address(b)))

    entry = found[f"task-{task['id']}@energieke-wijken.citydeal"]
    assert str(entry['url']) == f"{BASE}/taken/{task['id']}"
    assert 'Werklijn 5: warmte' in str(entry['summary'])
    assert entry.decoded('dtstart') == datetime(2021, 5, 24, 23, 59, 59, tzinfo=AMSTERDAM)  # 6 weeks from opening
    [alarm] = entry.walk('VALARM')
    assert str(alarm['action']) == 'DISPLAY' and alarm.decoded('trigger').days == -1
    keys = {uid.split('@')[0] for uid in found}
    assert {'deal-term_end', 'deal-continuation_start', 'deal-midterm'} <= keys
    midterm = found['deal-midterm@energieke-wijken.citydeal']
    assert midterm.decoded('dtstart').date().isoformat() == '2022-09-17'
    assert all(e.walk('VALARM') for e in found.values())
    # another party's deadlines are not in it: Tiwos's address shows Tiwos's task only
    assert [k for k in keys if k.startswith('task-')] == [f"task-{task['id']}"]


def test_a_role_gets_its_role_tasks(site, app):
    procedure = start_amendment(app)
    [task] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == procedure]
    found = events(fetch(site, new_address(browser(site, 'projectleider'))))
    assert f"task-{task['id']}@energieke-wijken.citydeal" in found
    auditor = events(fetch(site, new_address(browser(site, 'auditor'))))
    assert not [uid for uid in auditor if uid.startswith('task-')]  # no tasks, only the deal's dates


def test_a_new_address_revokes_the_old_and_revoking_leaves_none(site, app):
    b = browser(site, 'zeist')
    first = new_address(b)
    second = new_address(b)
    assert first != second
    assert fetch(site, first).status_code == 404
    assert fetch(site, second).status_code == 200
    assert 'U hebt een agenda-adres sinds 12 april 2021 om 10:00.' in b.get('/account').get_data(as_text=True)

    b.post('/account/agenda', {'action': 'revoke'}, token_from='/account')
    assert fetch(site, second).status_code == 404
    assert 'U hebt nog geen agenda-adres.' in b.get('/account').get_data(as_text=True)
    assert [e['event'] for e in app.audit() if e['event'].startswith('calendar_feed')] == [
        'calendar_feed_created', 'calendar_feed_created', 'calendar_feed_revoked']
    with Session(app.engine) as session:  # only the secret's hash is kept
        hashes = session.scalars(select(CalendarFeed.secret_hash)).all()
    assert len(hashes) == 2 and not any(second.rsplit('/', 1)[1].removesuffix('.ics') in h for h in hashes)


def test_unknown_addresses_and_a_post_without_login_or_token_get_nothing(site, app):
    anyone = site.test_client()
    assert anyone.get('/agenda/cda_bestaat-niet.ics').status_code == 404
    assert anyone.get('/agenda/iets-anders.ics').status_code == 404
    assert anyone.post('/account/agenda', data={'action': 'create'}).status_code in (302, 400)
    b = browser(site, 'zeist')
    assert b.post('/account/agenda', {'action': 'create'}, with_token=False).status_code == 400  # CSRF
    with Session(app.engine) as session:
        assert session.scalar(select(func.count()).select_from(CalendarFeed)) == 0


def test_the_address_stops_with_the_partys_withdrawal(site, app, clock):
    url = new_address(browser(site, 'weert'))
    assert fetch(site, url).status_code == 200
    start_procedure(app, 'opzegging', by='weert', circumstances='Bezuinigingen; de wijkaanpak stopt.')
    clock.set(datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    assert fetch(site, url).status_code == 404
    [closed] = [e for e in app.audit() if e['event'] == 'account_closed']
    assert closed['data']['calendar_feed_revoked'] is True
