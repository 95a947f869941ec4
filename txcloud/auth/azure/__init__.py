"""
Azure Storage authorisation, and Azure AD (Entra ID) tokens.

* :func:`shared_key_authorization` computes the ``Authorization:
  SharedKey account:signature`` header of a request and
  :func:`sign_request` adds it, with ``x-ms-date`` and ``x-ms-version``, to
  a :class:`~txcloud.http.Request` (:mod:`~txcloud.auth.azure.shared_key`).
* :func:`blob_service_sas` and :func:`account_sas` make shared access
  signatures (SAS tokens) from the account key; :func:`parse_sas_token`
  checks a token given by a user and :func:`apply_sas_token` puts it on a
  request instead of a signature (:mod:`~txcloud.auth.azure.sas`).
* :mod:`~txcloud.auth.azure.connection_string` reads storage connection
  strings (``AZURE_STORAGE_CONNECTION_STRING``).
* Azure AD tokens: an application's client secret, certificate or
  federated token (:mod:`~txcloud.auth.azure.entra`,
  :mod:`~txcloud.auth.azure.certificate`), managed identity
  (:mod:`~txcloud.auth.azure.managed_identity`), and
  :func:`default_azure_tokens`, ``DefaultAzureCredential``'s order
  (:mod:`~txcloud.auth.azure.chain`).

Keys, secrets and tokens never appear in errors.
"""

from txcloud.auth.azure import (
    certificate,
    chain,
    connection_string,
    entra,
    managed_identity,
    sas,
    shared_key,
)
from txcloud.auth.azure.certificate import *  # noqa: F403
from txcloud.auth.azure.chain import *  # noqa: F403
from txcloud.auth.azure.connection_string import *  # noqa: F403
from txcloud.auth.azure.entra import *  # noqa: F403
from txcloud.auth.azure.managed_identity import *  # noqa: F403
from txcloud.auth.azure.sas import *  # noqa: F403
from txcloud.auth.azure.shared_key import *  # noqa: F403

__all__ = [
    *shared_key.__all__,
    *sas.__all__,
    *connection_string.__all__,
    *certificate.__all__,
    *entra.__all__,
    *managed_identity.__all__,
    *chain.__all__,
]
