"""Trusting CDS clients: every call carries a JWT signed by an allowlisted issuer (CDS Hooks 2.0 §Security)."""
from .verify import ClientVerifier, VerifiedClient

__all__ = ["ClientVerifier", "VerifiedClient"]
