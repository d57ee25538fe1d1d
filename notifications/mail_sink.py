"""A local SMTP server that keeps every message it receives as a file: mail for a demo, on loopback."""
import itertools
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

from aiosmtpd.controller import Controller


class KeepToFolder:
    def __init__(self, folder, announce=print):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        start = len(list(self.folder.glob('*.eml')))
        self._numbers = itertools.count(start + 1)
        self._announce = announce

    async def handle_DATA(self, server, session, envelope):
        stamp = datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')
        path = self.folder / f'{next(self._numbers):05d}-{stamp}.eml'
        path.write_bytes(envelope.original_content or envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        subject = str(make_header(decode_header(message.get('Subject', ''))))
        self._announce(f'mail for {", ".join(envelope.rcpt_tos)}: {subject} -> {path}')
        return '250 Message accepted for delivery'


def start(folder, host='127.0.0.1', port=8025, announce=print):
    """Start the sink in a background thread; returns the controller (``stop()`` ends it)."""
    controller = Controller(KeepToFolder(folder, announce), hostname=host, port=port)
    controller.start()
    return controller
