"""
Google identity: OAuth2 access tokens.

* :mod:`~txcloud.auth.google.service_account`: a service account's JSON key
  signs a JWT, exchanged for a token that is cached and refreshed before it
  expires;
* :mod:`~txcloud.auth.google.authorized_user`: a user's refresh token (what
  ``gcloud auth application-default login`` writes);
* :mod:`~txcloud.auth.google.metadata`: the metadata server of the machine;
* :mod:`~txcloud.auth.google.adc`: Application Default Credentials, the
  order Google's own libraries look for credentials in.
"""

from txcloud.auth.google import adc, authorized_user, metadata, service_account
from txcloud.auth.google.adc import *  # noqa: F403
from txcloud.auth.google.authorized_user import *  # noqa: F403
from txcloud.auth.google.metadata import *  # noqa: F403
from txcloud.auth.google.service_account import *  # noqa: F403

__all__ = [*service_account.__all__, *authorized_user.__all__, *metadata.__all__, *adc.__all__]
