"""A real browser (Chromium, driven by Playwright) against the web app on loopback: the whole
consultation by every party's representative, an objection, a withdrawal; screenshots of each page,
and axe-core's WCAG 2.1 A/AA rules on every page type. On SQLite (see pytestmark)."""
import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import (
    ROOT, start_procedure)
from tests.web_support import PASSWORD, add_accounts, email_of, fast_hashing
from web.app import create_app

# The headless shell (make test installs it): Chromium's engine without the desktop browser, each step of
# a page in half the time. A desktop Chromium does as well, slower.
CHROMIUM = next(filter(None, map(shutil.which, ('chromium-headless-shell', 'chromium'))), '/usr/bin/chromium')
SHOTS = ROOT / 'test-artifacts' / 'screenshots'
# Only the violations in full: axe's other result types (every rule passed, with every node it passed on)
# came back as megabytes of JSON per page, most of the time of a check.
WCAG = {'runOnly': {'type': 'tag', 'values': ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        'resultTypes': ['violations']}

playwright_api = pytest.importorskip('playwright.sync_api')
AXE_SCRIPT = pytest.importorskip('axe_playwright_python.sync_playwright').Axe().axe_script
# Waits for what it looks for: a click waits only until the next page starts loading, not until it is drawn.
expect = playwright_api.expect
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason='Chromium is not installed (make test installs it)'),
    # A browser that navigates on while the stylesheet is on its way drops the connection; Werkzeug's
    # development server then skips closing the static file (its clean-up reads the dropped socket, which
    # raises), and the file warns when the handling of that request ends.
    pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader name='[^']*/web/static/:ResourceWarning"),
    # On SQLite only: what a page shows comes through the same engine on either database (tests/web runs every
    # page on both), and a browser run costs a minute or more each.
    pytest.mark.parametrize('databases', ['sqlite'], indirect=True),
]


@pytest.fixture
def server(app, monkeypatch):
    fast_hashing(monkeypatch)
    add_accounts(app)
    monkeypatch.setenv('CITYDEAL_SECRET_KEY', 'browser-test')
    http = make_server('127.0.0.1', 0, create_app(app), threaded=True, request_handler=_QuietAfterTwoSeconds)
    thread = threading.Thread(target=http.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{http.server_port}'
    http.shutdown()
    thread.join()
    # Waits for every connection's thread: one still handling a dropped connection would leave its
    # unclosed file (see pytestmark) to warn in whichever test runs next on this worker, and fail it.
    http.server_close()


class _QuietAfterTwoSeconds(WSGIRequestHandler):
    # The browser keeps connections open between pages; an idle one must not hold up the server's close.
    timeout = 2


@pytest.fixture(scope='module')
def chromium():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync'])
        yield browser
        browser.close()


class Person:
    def __init__(self, chromium, base, who):
        self.context = chromium.new_context(locale='nl-NL', viewport={'width': 1280, 'height': 900})
        self.page = self.context.new_page()
        self.base = base
        self.page.goto(f'{base}/inloggen')
        self.page.fill('#email', email_of(who))
        self.page.fill('#password', PASSWORD)
        self.page.click('button[type=submit]')
        assert '/inloggen' not in self.page.url, self.page.url

    def goto(self, path):
        self.page.goto(self.base + path)
        return self.page

    def close(self):
        self.context.close()


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The SQLite and PostgreSQL runs of a test may take the same picture at once, in two workers.
    taken = SHOTS / f'{name}.{os.getpid()}.png'
    page.screenshot(path=str(taken), full_page=True)
    os.replace(taken, SHOTS / f'{name}.png')


def decide(person, decision, statement, screenshots=False):
    page = person.goto('/taken')
    page.click('text=Instemming of bezwaar geven')
    if screenshots:
        shot(page, 'taak')
    page.check(f'#decision-{decision}')
    page.fill('#statement', statement)
    page.click('text=Verder naar bevestigen')
    if screenshots:
        shot(page, 'bevestigen')
    page.click('text=Bevestigen en vastleggen')
    assert '/ontvangstbewijs/' in page.url
    if screenshots:
        shot(page, 'ontvangstbewijs')
    return page


@pytest.mark.cli
@pytest.mark.slow
@pytest.mark.rule('Wijzigingen lid 3: amendment and consent statements become a bijlage')
def test_every_party_consents_in_the_browser_and_the_appendix_is_public(server, app, chromium):
    bzk = Person(chromium, server, 'bzk')
    page = bzk.goto('/procedures/nieuw/wijziging')
    shot(page, 'wijziging-voorstellen')
    page.fill('#title', 'Werklijn 5: warmte in de wijk')
    page.fill('#text', 'Aan Deel 1 wordt een vijfde werklijn toegevoegd.')
    page.fill('#motivation', 'De proeftuinen vragen erom.')
    page.click('text=Verzoek indienen')
    assert '/procedures/1' in page.url
    bzk.close()
    leader = Person(chromium, server, 'projectleider')
    page = leader.goto('/taken')
    shot(page, 'mijn-taken')
    page.click('text=Partijen informeren en om instemming vragen')
    page.click('text=Verder naar bevestigen')
    page.click('text=Bevestigen en vastleggen')
    leader.close()
    for index, party in enumerate(p['code'] for p in app.parties() if p['code'] != 'bzk'):
        person = Person(chromium, server, party)
        decide(person, 'consent', 'Wij stemmen in met werklijn 5.', screenshots=index == 0)
        person.close()
    assert app.show(1)['outcome'] == 'adopted'
    visitor = chromium.new_page()
    visitor.goto(f'{server}/openbaar')
    assert visitor.locator('h3#bijlage-1').inner_text() == 'Bijlage 1: Wijziging: Werklijn 5: warmte in de wijk'
    assert visitor.locator('.appendix tbody tr').count() == 17
    shot(visitor, 'openbaar')
    visitor.close()


@pytest.mark.cli
def test_an_objection_and_a_withdrawal_in_the_browser(server, app, chromium):
    from tests.conftest import open_consultation, start_amendment
    pid = start_amendment(app)
    open_consultation(app, pid)
    tilburg = Person(chromium, server, 'tilburg')
    page = tilburg.goto('/taken')
    page.click('text=Instemming of bezwaar geven')
    page.check('#decision-objection')
    page.click('text=Verder naar bevestigen')
    expect(page.locator('#statement-error')).to_be_visible()  # a statement is required for an objection
    shot(page, 'bezwaar-zonder-toelichting')
    page.fill('#statement', 'Past niet in onze begroting.')
    page.click('text=Verder naar bevestigen')
    page.click('text=Terug, wijzigen')  # back to the form, with everything as it was typed
    assert page.input_value('#statement') == 'Past niet in onze begroting.'
    assert page.is_checked('#decision-objection')
    page.click('text=Verder naar bevestigen')
    page.click('text=Bevestigen en vastleggen')
    page = tilburg.goto(f'/procedures/{pid}')
    expect(page.locator('text=Past niet in onze begroting.')).to_be_visible()
    shot(page, 'procedure')
    tilburg.close()
    tiwos = Person(chromium, server, 'tiwos')
    page = tiwos.goto('/procedures/nieuw/opzegging')
    page.fill('#circumstances', 'Fusie van de corporatie.')
    page.check('#understood')
    shot(page, 'opzeggen')
    page.click('text=Opzegging indienen')
    assert next(p for p in app.parties() if p['code'] == 'tiwos')['status'] == 'withdrawing'
    tiwos.close()


# Every role's main pages. The same page at a desk and on a phone: no sideways scroll at 375 px, no
# violations of WCAG 2.1 A/AA, party names where a code would be, and dates in words.
PAGES = {
    # the English page last: the choice of language stays with the visitor's session
    None: {'inloggen': '/inloggen', 'openbaar': '/openbaar', 'toetreden': '/toetreden',
           'toegankelijkheid': '/toegankelijkheid', 'niet-gevonden': '/bestaat-niet',
           'toetreden-bevestigen': 'CONFIRM', 'openbaar-en': '/openbaar?lang=en'},
    'zeist': {'mijn-taken': '/taken', 'taak': 'TASK', 'procedures': '/procedures', 'procedure': '/procedures/1',
              'procedure-opzegging': '/procedures/2', 'deal': '/deal', 'wijziging': '/procedures/nieuw/wijziging',
              'opzegging': '/procedures/nieuw/opzegging', 'delegeren': '/delegeren', 'tokens': '/tokens',
              'geheimhouding': '/procedures/nieuw/geheimhouding?procedure=1',
              'geen-toegang': '/audit', 'account': '/account'},
    'tilburg': {'beantwoorde-taak': 'ANSWERED'},
    # an answer in a round still open: its receipt, and the page that revises it
    'weert': {'ontvangstbewijs': 'RECEIPT', 'herzien': 'REVISE'},
    'projectleider': {'overzicht': '/overzicht', 'mijn-taken': '/taken', 'taak-opzegging': 'NOTICE_TASK',
                      'jaarcyclus': '/procedures/nieuw/jaarcyclus', 'voortzetting': '/procedures/nieuw/voortzetting',
                      'registratie-opzegging': '/procedures/nieuw/opzegging',
                      'registratie-wijziging': '/procedures/nieuw/wijziging', 'procedure-jaarcyclus': 'CYCLE',
                      'nieuwe-versie': 'NEW_VERSION'},
    'secretaris': {'overzicht': '/overzicht', 'mijn-taken': '/taken'},
    'auditor': {'audit': '/audit', 'overzicht': '/overzicht', 'procedures': '/procedures',
                'procedure': '/procedures/1', 'ontvangstbewijs': 'RECEIPT'},
}
#: a page's form sent as it is, to see it come back with all its errors (the button that sends it)
SENT_EMPTY = {'taak': 'Verder naar bevestigen', 'opzegging': 'Opzegging indienen',
              'registratie-opzegging': 'Opzegging registreren'}
WIDTHS = {'breed': {'width': 1280, 'height': 800}, 'telefoon': {'width': 375, 'height': 812}}
ISO_DATE = re.compile(r'\d{4}-\d{2}-\d{2}')
# The text a person reads where a name belongs: table cells, summaries, the tally, the header.
NAMED_TEXT = "Array.from(document.querySelectorAll('td, dd, .tally, header.site .account p, .timeline li'))" \
             ".map(e => e.innerText).join('\\n')"

# A stacked table's label (on a phone each cell is led by its column's name) must fit its column: a word
# wider than the column would run over the value beside it.
LABELS_TOO_WIDE = """(() => { const found = []; const canvas = document.createElement('canvas').getContext('2d');
  for (const td of document.querySelectorAll('table.stack td[data-label]')) {
    const label = getComputedStyle(td, '::before');
    if (label.float !== 'left') continue;
    canvas.font = `${label.fontWeight} ${label.fontSize} ${label.fontFamily}`;
    const widest = Math.max(...td.dataset.label.split(/\\s+/).map(w => canvas.measureText(w).width));
    if (widest > parseFloat(label.width)) found.push(td.dataset.label);
  }
  return [...new Set(found)]; })()"""

SMALLEST_DIAGRAM_TEXT = """(() => { const svg = document.querySelector('svg.bpmn');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Math.min(...Array.from(svg.querySelectorAll('text'), t => parseFloat(getComputedStyle(t).fontSize) * scale));
})()"""


def _sample(app):
    """A consultation with answers and an objection, a notice of withdrawal waiting for the projectleider and a
    yearly cycle; the paths of the pages that show them."""
    from tests.conftest import answer, open_consultation, start_amendment
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tilburg', 'objection', 'Past niet in onze begroting.')
    consented = answer(app, 'weert', 'consent', 'Akkoord.')
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie van de corporatie.')
    cycle = start_procedure(app, 'jaarcyclus', by='projectleider', year=2021)['id']
    weert = _answered_task(app, 'weert')
    notice = next(t['id'] for t in app.tasks(role='projectleider') if t['procedure_type'] == 'opzegging')
    return {'TASK': f"/taken/{next(t['id'] for t in app.tasks(party='zeist'))}", 'NOTICE_TASK': f'/taken/{notice}',
            'ANSWERED': f"/taken/{_answered_task(app, 'tilburg')}", 'REVISE': f'/taken/{weert}/herzien',
            'RECEIPT': f"/ontvangstbewijs/{consented['receipt']}", 'CYCLE': f'/procedures/{cycle}',
            'NEW_VERSION': f'/procedures/{pid}/nieuwe-versie'}


def violations(page):
    """axe-core's WCAG 2.1 A/AA violations on the page shown: (rule, its first three places)."""
    page.wait_for_load_state()  # a click returns once the next page starts loading
    if not page.evaluate("typeof axe !== 'undefined'"):  # not put in by the context (add_init_script)
        page.evaluate(AXE_SCRIPT)
    found = page.evaluate('options => axe.run(document, options)', WCAG)['violations']
    return [(v['id'], [n['target'] for n in v['nodes']][:3]) for v in found]


@pytest.mark.cli
@pytest.mark.slow
def test_every_page_of_every_role_at_a_desk_and_on_a_phone(server, app, chromium):
    paths = _sample(app)
    # /delegeren with its list of delegations, and the page a request to join's mailed link opens
    app.add_user('plaatsvervanger@example.org', PASSWORD, name='mevrouw J. Jansen')
    zeist = next(a for a in app.users() if a.email == email_of('zeist'))
    app.delegate(zeist, 'plaatsvervanger@example.org', app.today(), app.today())
    links = []
    app.request_accession({'applicant': 'Gemeente Eindhoven', 'kind': 'gemeente', 'representative': 'R. Thijs',
                           'email': 'r.thijs@eindhoven.example', 'contribution': 'EUR 10.000 per jaar',
                           'endorses_goals': True}, lambda token: links.append(f'/toetreden/bevestigen/{token}')
                          or f'{server}{links[-1]}')
    paths['CONFIRM'] = links[0]
    codes = [p['code'] for p in app.parties()]
    code_word = re.compile(r'(?<![\w@./-])(' + '|'.join(map(re.escape, codes)) + r')(?![\w@./-])')
    found = {}
    for who, pages in PAGES.items():  # one login per role, its pages at each width
        person = Person(chromium, server, who) if who else None
        page = person.page if person else chromium.new_page()
        # axe-core in every page the context opens, parsed as the page loads, not sent again for each check
        page.context.add_init_script(AXE_SCRIPT)
        for width_name, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            if who is None:  # a visitor comes to the phone in Dutch, as to the desk: no session from before
                page.context.clear_cookies()
            for name, path in pages.items():
                page.goto(server + paths.get(path, path))
                key = f'{who or "bezoeker"}-{name}-{width_name}'
                found[key] = _problems(page, name, viewport, code_word)
                shot(page, key)
                if name == 'taak':  # the confirmation page, at both widths
                    page.check('#decision-consent')
                    page.click('text=Verder naar bevestigen')
                    found[key + '-bevestigen'] = _problems(page, 'bevestigen', viewport, code_word)
                    shot(page, key + '-bevestigen')
                    page.goto(server + paths.get(path, path))
                if name in SENT_EMPTY and width_name == 'telefoon':  # and the forms with all their errors
                    # the server's answer, not the browser's: its own checks of required fields off
                    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
                    page.click(f'text={SENT_EMPTY[name]}')
                    found[key + '-fouten'] = _problems(page, name, viewport, code_word)
                    shot(page, key + '-fouten')
        (person.close() if person else page.close())
    assert {key: v for key, v in found.items() if v} == {}


def _problems(page, name, viewport, code_word):
    """What is wrong with the page shown: WCAG violations, a sideways scroll or a label that does not fit
    on a phone, an ISO date, a party's code where its name belongs, a diagram without its step in text."""
    problems = violations(page)
    if viewport['width'] == 375:
        scroll = page.evaluate('document.documentElement.scrollWidth')
        if scroll > 375:
            problems.append(('scrolls sideways', scroll))
        problems += [('stacked label wider than its column', label) for label in page.evaluate(LABELS_TOO_WIDE)]
    text = page.evaluate('document.body.innerText')
    problems += [('ISO date', m) for m in ISO_DATE.findall(text)]
    problems += [('party code', m) for m in code_word.findall(page.evaluate(NAMED_TEXT))]
    if name == 'procedure' or name.startswith('procedure-'):  # the diagram's smallest text, as drawn on the screen
        smallest = page.evaluate(SMALLEST_DIAGRAM_TEXT)
        if smallest < 11:
            problems.append(('diagram text below 11 px', smallest))
        if not page.locator('.current-step').inner_text().strip().startswith('Nu bij:'):
            problems.append(('no current step in text', None))
    return problems


def _answered_task(app, party):
    from sqlalchemy import select

    from engine.models import Answer
    with app._reading() as uow:
        return uow.session.scalars(select(Answer.task_id).where(Answer.party_code == party)).first()
