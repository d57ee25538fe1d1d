"""``make bench``: every measurement of issue 6 in one run; prints a table, writes bench/results.json
and the figures in the README.

Scratch databases live in a temporary directory; every process started is stopped before it ends.
"""
import tempfile
import time

from bench import due_lookup, inbox, machine, profiling, report, roundtrip, statements, timers

PARTY_COUNTS = (17, 100, 1000)


def main():
    started = time.monotonic()

    def progress(message):
        print(f'[{time.monotonic() - started:6.1f} s] {message}', flush=True)

    results = {'machine': machine.describe(), 'consent_roundtrip': {}}
    peak_web = {}
    with tempfile.TemporaryDirectory(prefix='citydeal-bench-') as scratch:
        urls = {}
        for parties in PARTY_COUNTS:
            figures, peak_web[f'roundtrip-{parties}'], urls[parties] = roundtrip.measure(scratch, parties, progress)
            results['consent_roundtrip'][str(parties)] = figures
            progress(f"  median {figures['median_ms']} ms, raw {figures['raw_median_ms']} ms, ratio {figures['ratio']}")
        results['consent_roundtrip']['17'].update(statements.measure(scratch, progress))
        results['inbox_render'], peak_web['inbox'], urls['inbox'] = inbox.measure(scratch, progress)
        results['due_lookup'], urls['due-lookup'] = due_lookup.measure(scratch, progress)
        results['timer_lateness'], peak_scheduler = timers.measure(scratch, progress)
        results['peak_rss_mb'] = {'web': max(peak_web.values()), 'scheduler': peak_scheduler, 'web_by_run': peak_web}
        profiles = {
            'roundtrip': lambda: profiling.roundtrip(urls[17], 17),
            'inbox': lambda: profiling.inbox(urls['inbox'], inbox.PARTY),
            'due-lookup': lambda: profiling.due_lookup(urls['due-lookup']),
        }
        for name, what, met, _ in report.targets(results):
            if met:
                profiling.discard(name)
            elif name in profiles:
                progress(f'target missed ({what}): profiling, see {profiles[name]().name}')
            else:
                progress(f'target missed ({what}): not profiled in-process')
    results['bench_seconds'] = round(time.monotonic() - started)
    print(report.table(results))
    report.update_readme(results)
    print(f"\nWritten to {report.write(results)} and README.md; {results['bench_seconds']} s in all.")


if __name__ == '__main__':
    main()
