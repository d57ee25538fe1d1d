"""pyHanko's signer for the installation's seal, signing with the key the seal already holds.

pyHanko's ``SimpleSigner`` parses its key again for every signature it makes (twice for each PDF: once to
size the signature, once to sign), and parsing checks an RSA key: a tenth of a second each for 3072 bits,
more than half of making a bijlage's PDF. PKCS#1 v1.5 with RSA, what a seal certificate has, is signed here
with the key as loaded; any other mechanism is left to pyHanko."""
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class SealSigner(SimpleSigner):
    def __init__(self, key, **kwargs):
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data, digest_algorithm):
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo == 'rsassa_pkcs1v15' and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)
