""""Mijn taken" with 1,000 open tasks for one party: the time to render the page over HTTP.

The page lists every open task (it has no pagination); the benchmark measures it as it is and
reports the page's size beside its time.
"""
from bench import child_processes, deals, seeding
from bench.samples import summary
from bench.web_client import Browser

TASKS = 1000
PARTY = 'tiwos'
WARMUP = 5
REPEATS = 30


def _world(scratch):
    """One consultation, copied until the party has ``TASKS`` open consent tasks."""
    url = seeding.database_url(scratch, 'inbox')
    app = seeding.city_deal(url, deals.write_deal(scratch, deals.REAL_PARTIES))
    procedure_id = seeding.open_amendment(app)
    [task] = [t for t in app.tasks(party=PARTY) if t['procedure_id'] == procedure_id]
    copies = seeding.clone_procedure(app, procedure_id, TASKS - 1)
    seeding.clone_open_task(app, task['id'], copies)
    seeding.add_accounts(app, [PARTY])
    listed = len(app.tasks(party=PARTY))
    if listed != TASKS:
        raise RuntimeError(f'{PARTY} has {listed} open tasks instead of {TASKS}')
    return url, app


#: rows on one page of a long list (web/listing.py)
PAGE_SIZE = 50


def measure(scratch, progress):
    progress(f'"Mijn taken" with {TASKS} open tasks: seeding')
    url, app = _world(scratch)
    try:
        with child_processes.web_app(scratch, url, seeding.DEAL_START) as web:
            browser = Browser(web.port)
            browser.login(seeding.email_of(PARTY), seeding.PASSWORD)
            progress(f'"Mijn taken" with {TASKS} open tasks: {WARMUP + REPEATS} renders ({WARMUP} warm-up)')
            pages = [browser.get('/taken') for _ in range(WARMUP + REPEATS)]
            peak_rss = web.peak_rss_mb()
    finally:
        app.close()
    page = pages[-1]
    rows = page.body.count('<tr') - 1  # less the header row
    # The list is paginated: the first page of PAGE_SIZE rows, counted among all 1,000 in SQL.
    if page.status != 200 or rows != min(TASKS, PAGE_SIZE) or f'{TASKS:,}'.replace(',', '.') not in page.body:
        raise RuntimeError(f'/taken answered {page.status} with {rows} rows, not the first {PAGE_SIZE} of {TASKS}')
    figures = summary([p.elapsed_ms for p in pages[WARMUP:]])
    return {'tasks': TASKS, 'median_ms': figures['median_ms'], 'p95_ms': figures['p95_ms'],
            'page_kb': round(len(page.body.encode()) / 1024, 1), 'rows_shown': rows}, peak_rss, url
