"""Real asymmetric keys and CDS client JWTs for tests."""
from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


class ClientKey:
    """A CDS client's signing key: ES384 by default (the spec's recommendation), RS384 on request."""

    def __init__(self, alg: str = "ES384", kid: str | None = None):
        self.alg = alg
        self.kid = kid or str(uuid.uuid4())
        if alg.startswith("ES"):
            curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}[alg]
            self.private_key = ec.generate_private_key(curve)
            algorithm = jwt.algorithms.ECAlgorithm
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            algorithm = jwt.algorithms.RSAAlgorithm
        self._signer = jwt.get_algorithm_by_name(alg)
        self.public_jwk = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        self.public_jwk.update({"kid": self.kid, "use": "sig", "alg": alg})

    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    def token(self, iss: str, aud: str, *, lifetime: int = 300, now: float | None = None, headers: dict | None = None,
              drop: tuple[str, ...] = (), **claims) -> str:
        now = time.time() if now is None else now
        payload = {"iss": iss, "aud": aud, "iat": int(now), "exp": int(now) + lifetime, "jti": str(uuid.uuid4())}
        payload.update(claims)
        for name in drop:
            payload.pop(name, None)
        header = {"kid": self.kid, "typ": "JWT"}
        header.update(headers or {})
        return jwt.encode(payload, self.private_key, algorithm=self.alg, headers=header)

    def sign_raw(self, header: object, payload: object) -> str:
        """A compact JWS over any JSON header and payload, signed with this key: the malformed tokens PyJWT's
        encode would refuse to write (alg as a list, exp as a string, a payload that is not an object)."""
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
        signature = self._signer.sign(signing_input.encode(), self.private_key)
        return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
