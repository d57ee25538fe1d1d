"""What the figures were measured on: they mean little without it."""
import os
import platform
import sqlite3
from datetime import datetime, timezone


def _cpu_model():
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _memory_gb():
    try:
        with open('/proc/meminfo') as meminfo:
            for line in meminfo:
                if line.startswith('MemTotal:'):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe():
    return {
        'platform': platform.platform(),
        'cpu': _cpu_model(),
        'cores': os.cpu_count(),
        'memory_gb': _memory_gb(),
        'python': platform.python_version(),
        'sqlite': sqlite3.sqlite_version,
        'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
    }
