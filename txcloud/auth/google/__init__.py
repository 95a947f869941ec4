"""
Google identity: OAuth2 access tokens for service accounts
(:mod:`~txcloud.auth.google.service_account`: a JSON key signs a JWT, which
is exchanged for a token that is cached and refreshed before it expires).
"""

from txcloud.auth.google.service_account import (
    DEFAULT_REFRESH_MARGIN,
    DEFAULT_TOKEN_URI,
    JWT_BEARER_GRANT,
    STORAGE_FULL_CONTROL,
    AccessToken,
    ServiceAccountKey,
    ServiceAccountTokens,
    jwt_assertion,
    load_service_account_key,
    token_error_mapper,
)

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "DEFAULT_TOKEN_URI",
    "JWT_BEARER_GRANT",
    "STORAGE_FULL_CONTROL",
    "AccessToken",
    "ServiceAccountKey",
    "ServiceAccountTokens",
    "jwt_assertion",
    "load_service_account_key",
    "token_error_mapper",
]
