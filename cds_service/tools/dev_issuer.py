"""A local CDS client issuer for development and integration testing: a key pair, the TRUSTED_ISSUERS file
that trusts it, and tokens signed with it, as an EHR would send them (ES384, a 5-minute lifetime, a fresh
jti). Never for production: whoever holds the private key is a trusted EHR."""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_KEY = "private-key.pem"
ISSUERS = "trusted-issuers.json"
DEFAULT_ISSUER = "https://dev-ehr.localhost"


def create(folder: Path, issuer: str = DEFAULT_ISSUER) -> Path:
    """Writes the private key (readable by its owner only) and the issuers file; returns the issuers file."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    kid = uuid.uuid4().hex[:16]
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private = folder / PRIVATE_KEY
    with os.fdopen(os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(pem)
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "alg": "ES384", "use": "sig"})
    issuers = folder / ISSUERS
    issuers.write_text(json.dumps([{"iss": issuer, "jwks": {"keys": [public]}}], indent=2) + "\n", encoding="utf-8")
    return issuers


def token(folder: Path, audience: str, lifetime: int = 300) -> str:
    """A client JWT for `audience` ({PUBLIC_BASE_URL}/cds-services or a service's URL) from the issuer in
    `folder`."""
    (entry,) = json.loads((folder / ISSUERS).read_text(encoding="utf-8"))
    (public,) = entry["jwks"]["keys"]
    key = serialization.load_pem_private_key((folder / PRIVATE_KEY).read_bytes(), password=None)
    now = int(time.time())
    claims = {"iss": entry["iss"], "sub": entry["iss"], "aud": audience, "iat": now, "exp": now + lifetime,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": public["kid"], "typ": "JWT"})
