"""The seal's signer signs as pyHanko's own would, with the key it was given once."""
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.sign.signers import SimpleSigner

from engine import seal
from engine.seal_signer import SealSigner


def signers(seal_file, **options):
    from asn1crypto import x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore
    loaded = seal.load(seal.SealSettings(seal_file, None, True))
    [certificate] = [x509.Certificate.load(der) for der in loaded.certificates_der()]
    common = dict(signing_cert=certificate, cert_registry=SimpleCertificateStore.from_certs([certificate]), **options)
    ours = SealSigner(loaded.key, **common)
    return loaded, ours, SimpleSigner(signing_key=ours.signing_key, **common)


def test_an_rsa_seal_signs_the_same_bytes_as_pyhankos_signer(seal_file):
    _, ours, theirs = signers(seal_file)
    for digest in ('sha256', 'sha384', 'sha512'):
        assert ours.sign_raw(b'bijlage 1', digest) == theirs.sign_raw(b'bijlage 1', digest), digest


def test_pss_is_left_to_pyhanko_and_verifies(seal_file):
    loaded, ours, _ = signers(seal_file, prefer_pss=True)
    signature = ours.sign_raw(b'bijlage 1', 'sha256')
    # PSS is salted: not the same bytes twice, but a valid PSS signature by the seal's key
    loaded.key.public_key().verify(signature, b'bijlage 1', padding.PSS(
        mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
