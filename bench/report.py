"""The targets of issue 6, the table printed at the end, and ``bench/results.json``."""
import json

from bench import statements
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results.json'
#: the due lookup "does not grow" when 10 times the open procedures cost at most this factor more
GROWTH_ALLOWED = 1.5


def targets(results):
    """(target, met, figure) for each target of the issue."""
    roundtrip = results['consent_roundtrip']['17']
    lateness = results['timer_lateness']
    lookup = results['due_lookup']
    inbox = results['inbox_render']
    growth = lookup['median_ms'] / lookup['median_ms_at_1000_open']
    return [
        ('roundtrip', 'consent round trip at 17 parties: at most 2.0 x the raw cycle', roundtrip['ratio'] <= 2.0,
         f"{roundtrip['ratio']} x"),
        ('data-path', f'consent POST: at most {statements.MAX_STATEMENTS} statements in '
         f'{statements.MAX_WRITE_TRANSACTIONS} write transaction',
         roundtrip['statements_per_consent'] <= statements.MAX_STATEMENTS
         and roundtrip['write_transactions_per_consent'] <= statements.MAX_WRITE_TRANSACTIONS,
         f"{roundtrip['statements_per_consent']} statements, {roundtrip['write_transactions_per_consent']} write "
         f"transaction of {roundtrip['transactions_per_consent']}"),
        ('timers', 'timer lateness: worst under 1 s', lateness['max_ms'] < 1000, f"{lateness['max_ms']} ms"),
        ('due-lookup', f'due lookup: under 20 ms at 10,000 open, and at most {GROWTH_ALLOWED} x the time at 1,000',
         max(lookup['median_ms'], lookup['median_ms_100_due']) < 20 and growth <= GROWTH_ALLOWED,
         f"{lookup['median_ms']} ms ({lookup['median_ms_100_due']} ms with 100 due), {growth:.1f} x the time at 1,000"),
        ('inbox', '"Mijn taken" with 1,000 tasks: under 100 ms', inbox['median_ms'] < 100, f"{inbox['median_ms']} ms"),
    ]


def table(results):
    lines = ['', 'Consent round trip (HTTP, committing POST) beside the raw SpiffWorkflow cycle, in ms:',
             f"{'parties':>8} {'median':>8} {'p95':>8} {'raw median':>11} {'ratio':>6}"]
    for parties, r in results['consent_roundtrip'].items():
        lines.append(f"{parties:>8} {r['median_ms']:>8} {r['p95_ms']:>8} {r['raw_median_ms']:>11} {r['ratio']:>6}")
    lateness, lookup, inbox, rss = (results[k] for k in ('timer_lateness', 'due_lookup', 'inbox_render', 'peak_rss_mb'))
    lines += [
        '',
        f"Timer lateness, {lateness['timers']} timers over a minute: median {lateness['median_ms']} ms, "
        f"worst {lateness['max_ms']} ms",
        f"Due lookup, one scheduler check: {lookup['median_ms']} ms at {lookup['open']} open "
        f"({lookup['median_ms_100_due']} ms with 100 due); {lookup['median_ms_at_1000_open']} ms at 1000 open "
        f"({lookup['median_ms_100_due_at_1000_open']} ms with 100 due)",
        *(f'  query plan: {plan}' for plan in lookup['query_plans']),
        f"Mijn taken, {inbox['tasks']} open tasks: median {inbox['median_ms']} ms, p95 {inbox['p95_ms']} ms, "
        f"{inbox['page_kb']} kB, {inbox['rows_shown']} rows",
        f"Peak RSS: web {rss['web']} MB (the largest of the {len(rss['web_by_run'])} gunicorn workers, one per "
        f"database), scheduler {rss['scheduler']} MB",
        '',
        'Targets:',
    ]
    lines += [f"  {'met   ' if met else 'MISSED'} {what}: {figure}" for _, what, met, figure in targets(results)]
    return '\n'.join(lines)


def write(results):
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + '\n')
    return RESULTS


README = RESULTS.parent.parent / 'README.md'
#: the README's figures are rewritten between these lines by every run
README_START = '<!-- make bench writes from here -->'
README_END = '<!-- to here -->'


def _readme_rows(results):
    verdict = {name: 'met' if met else '**missed**' for name, _, met, _ in targets(results)}
    rows = []
    for parties, r in results['consent_roundtrip'].items():
        target, met = ('ratio at most 2.0', verdict['roundtrip']) if parties == '17' else ('', '')
        rows.append((f'consent round trip, {parties} parties', f"{r['median_ms']} ms (p95 {r['p95_ms']}); raw cycle "
                     f"{r['raw_median_ms']} ms; ratio {r['ratio']}", target, met))
        if 'statements_per_consent' in r:
            rows.append(('consent POST data path, 17 parties', f"statements_per_consent {r['statements_per_consent']}, "
                         f"transactions_per_consent {r['transactions_per_consent']} "
                         f"({r['write_transactions_per_consent']} writing)", 'at most 12 statements, 1 write transaction',
                         verdict['data-path']))
    lateness, lookup, inbox, rss = (results[k] for k in ('timer_lateness', 'due_lookup', 'inbox_render', 'peak_rss_mb'))
    rows += [
        ('timer lateness', f"{lateness['timers']} timers: median {lateness['median_ms']} ms, worst {lateness['max_ms']} ms",
         'worst under 1 s', verdict['timers']),
        ('due-timer lookup', f"{lookup['median_ms']} ms at {lookup['open']:,} open ({lookup['median_ms_100_due']} ms "
         f"with 100 due); {lookup['median_ms_at_1000_open']} ms at 1,000 open", 'under 20 ms, not growing',
         verdict['due-lookup']),
        ('"Mijn taken", 1,000 tasks', f"{inbox['median_ms']} ms (p95 {inbox['p95_ms']}); {inbox['page_kb']} kB, "
         f"{inbox['rows_shown']} rows", 'under 100 ms', verdict['inbox']),
        ('peak memory (VmHWM)', f"web {rss['web']} MB (the largest of {len(rss['web_by_run'])} gunicorn workers), "
         f"scheduler {rss['scheduler']} MB", '', ''),
    ]
    return rows


def readme_block(results):
    m = results['machine']
    lines = [README_START, '',
             f"Measured {m['date'][:10]} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['platform']}; "
             f"Python {m['python']}, SQLite {m['sqlite']}. The run took {results['bench_seconds']} s.", '',
             '| measure | figure | target | |', '|---|---|---|---|']
    lines += [f'| {what} | {figure} | {target} | {met} |' for what, figure, target, met in _readme_rows(results)]
    return '\n'.join(lines + ['', README_END])


def update_readme(results):
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < 0:
        raise RuntimeError(f'README.md has no {README_START!r} ... {README_END!r} block for the figures')
    README.write_text(text[:start] + readme_block(results) + text[end + len(README_END):])
