"""Median and 95th percentile of timed repetitions, in milliseconds."""
import statistics


def p95(values):
    """Nearest-rank 95th percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def summary(values_ms):
    return {'median_ms': round(statistics.median(values_ms), 2), 'p95_ms': round(p95(values_ms), 2),
            'samples': len(values_ms)}
