"""The installation's seal: the key and certificate that sign its PDFs (a PAdES signature).

In production a qualified seal certificate (PKIoverheid) as a PKCS#12 file: ``CITYDEAL_SEAL_P12``
with ``CITYDEAL_SEAL_PASSWORD``. Without one, ``citydeal init`` makes a self-signed seal once in
``var/seal.p12``: a stand-in that proves integrity and origin to whoever trusts this installation,
not to the world.
"""
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from engine.database import create_private_dir
from engine.errors import CommandRefused

DEFAULT_PATH = 'var/seal.p12'
#: ten years; a stand-in is replaced by a real seal long before
VALIDITY = timedelta(days=3650)


@dataclass(frozen=True)
class SealSettings:
    path: Path
    password: bytes | None
    #: True when the path came from CITYDEAL_SEAL_P12 (never made by us)
    configured: bool

    @classmethod
    def from_environment(cls, environ=os.environ):
        configured = environ.get('CITYDEAL_SEAL_P12')
        password = environ.get('CITYDEAL_SEAL_PASSWORD')
        return cls(Path(configured or DEFAULT_PATH), password.encode('utf-8') if password else None,
                   bool(configured))


def make_self_signed(path, organisation, now=None):
    """A self-signed seal certificate and its key as PKCS#12, readable by its owner only from the first byte.

    Refuses to replace a file that exists: a seal is made once (``O_EXCL``)."""
    now = now or datetime.now(timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'NL'),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
                      x509.NameAttribute(NameOID.COMMON_NAME, 'City Deal zegel (zelf ondertekend)')])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    # The file's mode protects the key, as it does var/secret_key: no password to keep beside it.
    data = pkcs12.serialize_key_and_certificates(b'citydeal-seal', key, certificate, None,
                                                 serialization.NoEncryption())
    path = Path(path)
    create_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return path


def ensure(settings, organisation):
    """At ``citydeal init``: make the stand-in seal when none is configured and none exists yet.

    Returns what was done: 'configured', 'kept' or 'made'."""
    if settings.configured:
        load(settings)  # a wrong path or password is reported at init, not at the first PDF
        return 'configured'
    if settings.path.exists():
        return 'kept'
    make_self_signed(settings.path, organisation)
    return 'made'


@dataclass(frozen=True)
class Seal:
    key: object
    certificate: x509.Certificate
    chain: tuple

    def certificates_der(self):
        return [c.public_bytes(serialization.Encoding.DER) for c in (self.certificate, *self.chain)]


def load(settings):
    field = 'CITYDEAL_SEAL_P12' if settings.configured else 'seal'
    try:
        data = settings.path.read_bytes()
    except FileNotFoundError:
        raise CommandRefused.one('seal.missing' if settings.configured else 'seal.not_made', field,
                                 path=str(settings.path)) from None
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, settings.password)
    except ValueError as err:
        raise CommandRefused.one('seal.unreadable', field, path=str(settings.path), detail=str(err)) from None
    if key is None or certificate is None:
        raise CommandRefused.one('seal.no_key', field, path=str(settings.path))
    return Seal(key, certificate, tuple(chain or ()))
