"""The seal's signer, as the bijlage PDFs get it, signs as pyHanko's own would, with the key it was given once."""
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.sign.signers import SimpleSigner

from engine import appendix_pdf, seal


def signers(seal_file):
    loaded = seal.load(seal.SealSettings(seal_file, None, True))
    ours = appendix_pdf._signer(loaded)
    theirs = SimpleSigner(signing_cert=ours.signing_cert, signing_key=ours.signing_key, cert_registry=ours.cert_registry)
    return loaded, ours, theirs


def test_an_rsa_seal_signs_the_same_bytes_as_pyhankos_signer(seal_file):
    _, ours, theirs = signers(seal_file)
    for digest in ('sha256', 'sha384', 'sha512'):
        assert ours.sign_raw(b'bijlage 1', digest) == theirs.sign_raw(b'bijlage 1', digest), digest


def test_pss_is_left_to_pyhanko_and_verifies(seal_file):
    loaded, ours, _ = signers(seal_file)
    ours.prefer_pss = True  # as pyHanko's own signer loaders set it
    signature = ours.sign_raw(b'bijlage 1', 'sha256')
    # PSS is salted: not the same bytes twice, but a valid PSS signature by the seal's key
    loaded.key.public_key().verify(signature, b'bijlage 1', padding.PSS(
        mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
