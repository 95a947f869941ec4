"""
Azure Storage authorisation, as pure functions of plain values.

* :func:`shared_key_authorization` computes the ``Authorization:
  SharedKey account:signature`` header of a request and
  :func:`sign_request` adds it, with ``x-ms-date`` and ``x-ms-version``, to
  a :class:`~txcloud.http.Request` (:mod:`~txcloud.auth.azure.shared_key`).
* :func:`blob_service_sas` and :func:`account_sas` make shared access
  signatures (SAS tokens) from the account key; :func:`parse_sas_token`
  checks a token given by a user and :func:`apply_sas_token` puts it on a
  request instead of a signature (:mod:`~txcloud.auth.azure.sas`).

Keys never appear in errors.
"""

from txcloud.auth.azure import sas, shared_key
from txcloud.auth.azure.sas import *  # noqa: F403
from txcloud.auth.azure.shared_key import *  # noqa: F403

__all__ = [*shared_key.__all__, *sas.__all__]
