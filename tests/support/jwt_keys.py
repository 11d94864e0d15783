"""Real asymmetric keys and CDS client JWTs for tests."""
from __future__ import annotations

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
