"""A real SMTP server on loopback for tests (aiosmtpd), keeping what it receives in memory."""
import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_ports(count):
    """Ports free at this moment, all different: held together while chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(('127.0.0.1', 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_port():
    return free_ports(1)[0]


class Collect:
    def __init__(self):
        self.received = []
        #: each message as it came over the wire, for what parsing hides (a header's folding)
        self.raw = []
        self.refuse = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self.received.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return '250 Message accepted for delivery'


class SmtpServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.handler = Collect()
        self._controller = None

    def start(self):
        self._controller = Controller(self.handler, hostname='127.0.0.1', port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller:
            self._controller.stop()
            self._controller = None

    @property
    def received(self):
        return self.handler.received

    @property
    def raw(self):
        return self.handler.raw
