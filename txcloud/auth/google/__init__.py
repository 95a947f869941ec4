"""
Google identity: OAuth2 access tokens for service accounts
(:mod:`~txcloud.auth.google.service_account`: a JSON key signs a JWT, which
is exchanged for a token that is cached and refreshed before it expires).
"""

from txcloud.auth.google import service_account
from txcloud.auth.google.service_account import *  # noqa: F403

__all__ = list(service_account.__all__)
