"""The installation's seal: the key and certificate that sign its PDFs (a PAdES signature).

In production a qualified seal certificate (PKIoverheid) as a PKCS#12 file: ``CITYDEAL_SEAL_P12``
with ``CITYDEAL_SEAL_PASSWORD``. Without one, ``citydeal init`` makes a self-signed seal once in
``var/seal.p12``: a stand-in that proves integrity and origin to whoever trusts this installation,
not to the world.
"""
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
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


def make_self_signed(path, organisation, now=None, key=None):
    """A self-signed seal certificate and its key as PKCS#12, readable by its owner only from the first byte;
    ``key``: the private key to certify, a new RSA key of 3072 bits when none is given.

    Refuses to replace a file that exists: a seal is made once (``O_EXCL``)."""
    now = now or datetime.now(timezone.utc)
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, 'NL'),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
                      x509.NameAttribute(NameOID.COMMON_NAME, 'Zegel van de registratie (zelf ondertekend)')])
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
        key, certificate, chain = _parsed(data, settings.password)
    except ValueError as err:
        raise CommandRefused.one('seal.unreadable', field, path=str(settings.path), detail=str(err)) from None
    if key is None or certificate is None:
        raise CommandRefused.one('seal.no_key', field, path=str(settings.path))
    return Seal(key, certificate, tuple(chain or ()))


@lru_cache(maxsize=1)
def _parsed(data, password):
    # Parsing checks the RSA key, a tenth of a second for 3072 bits, and every PDF made or verified needs the
    # seal: the same file's bytes are parsed once per process. Only the current seal is kept: a file replaced
    # is parsed anew and the old key let go (a refused file is never kept).
    return pkcs12.load_key_and_certificates(data, password)


def _parsed_contents(pdf, byte_range):
    """(what is wrong with /Contents, or None; the parsed signature or None): see ``contents_problem``."""
    from asn1crypto import cms
    if len(byte_range) != 4 or not all(isinstance(n, int) for n in byte_range):
        return 'its /ByteRange is not four numbers', None
    start, first, second, rest = byte_range
    if start != 0 or not 0 < first < second or second + rest != len(pdf):
        return f'its /ByteRange {list(byte_range)} does not cover the whole file but the signature', None
    value = bytes(pdf[first:second])
    if len(value) < 2 or value[:1] != b'<' or value[-1:] != b'>':
        return 'its /Contents is not a hex string in the room the /ByteRange leaves', None
    digits = value[1:-1]
    if any(c not in b'0123456789ABCDEF' for c in digits) or len(digits) % 2:
        return 'its /Contents holds characters that sealing does not write (only 0-9 and A-F, in pairs)', None
    raw = bytes.fromhex(digits.decode('ascii'))
    try:
        length = len(cms.ContentInfo.load(raw).dump())
        signed = cms.ContentInfo.load(raw[:length])
        if signed['content_type'].native != 'signed_data':
            return 'its /Contents is not a CMS SignedData', None
        canonical = _canonical_der(signed)
        data = signed['content']
        infos = list(data['signer_infos'])
        listed = [a.dump() for a in data['digest_algorithms']]
        used = [info['digest_algorithm'].dump() for info in infos]
        # what pyHanko's check reads no further than it needs, and what sealing always writes the same
        unused = (data['version'].native, data['encap_content_info']['content_type'].native,
                  data['encap_content_info']['content'].native, data['crls'].native,
                  [(info['version'].native, info['unsigned_attrs'].native) for info in infos])
    except Exception as err:  # noqa: BLE001 - any parser error means the same: not the signature as sealed
        words = ' '.join(str(err).split())
        return f'its /Contents is not a readable CMS signature ({type(err).__name__}: {words})', None
    if raw[:length] != canonical:
        return 'the signature in /Contents is not in canonical DER', None
    if digits != (canonical.hex().upper() + '0' * (len(digits) - 2 * length)).encode('ascii'):
        return 'the padding after the signature in /Contents is not all zeros', None
    if len(infos) != 1 or listed != used:
        return 'the digest algorithms the signature lists are not the one it was made with', None
    if unused != ('v1', 'data', None, None, [('v1', None)]):
        return ('the signature holds fields that sealing does not write (version, content, CRLs or unsigned '
                'attributes)', None)
    return None, signed


def contents_problem(pdf, byte_range):
    """What is wrong with a signature's ``/Contents`` in ``pdf`` as sealed, or None.

    A PAdES signature signs every byte but its own ``/Contents``: the hex of the DER-encoded CMS signature,
    padded with zeros to the room reserved for it. A reader (pyHanko too) parses the CMS and ignores what
    follows it, reads hex in either case, and reads no field of the CMS it does not need, so a changed
    padding byte, a hex digit changed in case, a non-canonical length or a changed byte in a field the check
    does not use all leave the signature "intact". Here the value must be exactly what sealing writes:
    ``<``, the upper-case hex of the signature's DER (parsed and encoded again, compared byte for byte),
    ``0`` up to the reserved length, ``>``; one SignerInfo, whose digest algorithm is the one listed, and
    no field sealing does not write."""
    return _parsed_contents(pdf, byte_range)[0]


def certificates_problem(pdf, byte_range, certificates_der):
    """After the signature was found made with the seal: the certificates it carries must be the seal's,
    byte for byte (a reader does not check the copies it does not need)."""
    problem, signed = _parsed_contents(pdf, byte_range)
    if problem:
        return problem
    carried = [c.chosen.dump() for c in signed['content']['certificates'] or ()]
    if not carried or any(der not in certificates_der for der in carried):
        return "the certificates in the signature are not the seal's"
    return None


def _header(tag, length):
    """A DER tag and length: the length in the fewest bytes."""
    if length < 0x80:
        return bytes((tag, length))
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, 'big')


def _sequence(value, **encoded):
    """A SEQUENCE encoded again in DER, field by field (``encoded``: fields already encoded)."""
    body = b''.join(encoded[name] if name in encoded else value[name].dump(force=True)
                    for name, *_ in value._fields)
    return _header(0x30, len(body)) + body


def _canonical_der(content_info):
    """A CMS ContentInfo with SignedData parsed and encoded again in DER. (asn1crypto's forced dump does
    the same, but over a whole signature as pyHanko parses it takes half a second: here each field of the
    SignedData and its SignerInfos is dumped on its own.)"""
    data = content_info['content']
    infos = b''.join(_sequence(info) for info in data['signer_infos'])
    signed = _sequence(data, signer_infos=_header(0x31, len(infos)) + infos)
    return _sequence(content_info, content=_header(0xA0, len(signed)) + signed)
