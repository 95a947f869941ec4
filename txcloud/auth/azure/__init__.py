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

from txcloud.auth.azure.sas import (
    BLOB_SAS_PERMISSIONS,
    account_sas,
    apply_sas_token,
    blob_service_sas,
    parse_sas_token,
    sas_time,
)
from txcloud.auth.azure.shared_key import (
    STORAGE_API_VERSION,
    canonicalized_headers,
    canonicalized_resource,
    check_account_name,
    decode_account_key,
    http_date,
    shared_key_authorization,
    sign_request,
    string_to_sign,
)

__all__ = [
    "BLOB_SAS_PERMISSIONS",
    "STORAGE_API_VERSION",
    "account_sas",
    "apply_sas_token",
    "blob_service_sas",
    "canonicalized_headers",
    "canonicalized_resource",
    "check_account_name",
    "decode_account_key",
    "http_date",
    "parse_sas_token",
    "sas_time",
    "shared_key_authorization",
    "sign_request",
    "string_to_sign",
]
