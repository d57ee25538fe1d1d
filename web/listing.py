"""Filters and pages of the long lists (/overzicht, /procedures, /taken, /audit), all kept in the URL."""
from flask import abort, request, url_for
from flask_babel import format_number

from engine import procedures as registry

PAGE_SIZE = 50
PROCEDURE_TYPES = registry.IDS
STATUSES = ('running', 'completed', 'cancelled')
SOON_DAYS = 7


def page_number():
    raw = request.args.get('page', '1')
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400)
    return int(raw)


def procedure_filters(default_status=None):
    """type, status, overdue, due_soon and q from the URL, as the engine's read takes them."""
    type_ = request.args.get('type') or None
    status = request.args.get('status', default_status or '') or None
    if type_ not in (None,) + PROCEDURE_TYPES or status not in (None,) + STATUSES:
        abort(400)
    return {'type_': type_, 'status': status, 'overdue': request.args.get('overdue') == '1',
            'due_within_days': SOON_DAYS if request.args.get('due_soon') == '1' else None,
            'search': (request.args.get('q') or '').strip()[:100] or None}


def task_filters():
    found = procedure_filters()
    found.pop('status')
    return found


class Page:
    """One page of a list: its rows, '1–50 van 1.000', and links to the pages before and after."""

    def __init__(self, result, number, size=PAGE_SIZE):
        self.rows, self.total, self.number, self.size = result['rows'], result['total'], number, size
        if not self.rows and self.total and number > 1:
            abort(404)  # a page beyond the last
        self.first = (number - 1) * size + 1 if self.rows else 0
        self.last = self.first + len(self.rows) - 1 if self.rows else 0
        self.pages = max(1, -(-self.total // size))

    @property
    def offset(self):
        return (self.number - 1) * self.size

    def counts(self):
        return {'first': format_number(self.first), 'last': format_number(self.last),
                'total': format_number(self.total)}

    def url(self, number):
        args = request.args.to_dict()
        args['page'] = str(number)
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    @property
    def previous(self):
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next(self):
        return self.url(self.number + 1) if self.number < self.pages else None


def offset(number):
    return (number - 1) * PAGE_SIZE
