"""JWT authentication that accepts the seed article's lowercase ``jwt <token>`` header.

Kept apart from the views: DRF imports its authentication classes while its own modules load,
so this module must not import DRF views.
"""

from rest_framework_simplejwt.authentication import JWTAuthentication


class CaseInsensitiveJWTAuthentication(JWTAuthentication):
    """Accept ``JWT <token>``, ``jwt <token>`` (the article's form) and ``Bearer <token>``."""

    def get_raw_token(self, header: bytes):
        parts = header.split()
        if len(parts) != 2:
            return None
        kind = parts[0].lower()
        if kind not in (b"jwt", b"bearer"):
            return None
        return parts[1]
