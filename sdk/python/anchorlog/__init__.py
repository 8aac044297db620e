"""anchorlog producer SDK for Python (standard library only; see README.md)."""

from .client import AuditClient, RejectedEvent, Spool, SpoolFullError, ed25519_signer, p256_signer, signer_from_pem
from .jcs import canonical_bytes

__all__ = [
    "AuditClient",
    "RejectedEvent",
    "Spool",
    "SpoolFullError",
    "canonical_bytes",
    "ed25519_signer",
    "p256_signer",
    "signer_from_pem",
]
