"""pyHanko's signer for the installation's seal, signing with the key the seal already holds.

pyHanko's ``SimpleSigner`` parses its key again for every signature it makes (twice for each PDF: once to
size the signature, once to sign), and parsing checks an RSA key: a tenth of a second each for 3072 bits,
more than half of making a bijlage's PDF. An RSA key signing with PKCS#1 v1.5 padding (what pyHanko
chooses for an RSA key unless told to prefer PSS) signs here with the key as loaded, the same bytes
pyHanko would make; every other key and mechanism is left to pyHanko."""
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class SealSigner(SimpleSigner):
    def __init__(self, key, **kwargs):
        signing_key = keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        super().__init__(signing_key=signing_key, **kwargs)
        self._key = key

    def sign_raw(self, data, digest_algorithm):
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:  # a mechanism asn1crypto has no name for: pyHanko knows what to do with it
            mechanism = None
        if mechanism == 'rsassa_pkcs1v15' and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)
