"""
Storage connection strings, as the Azure portal, ``az`` and the SDKs give
them (``AZURE_STORAGE_CONNECTION_STRING``): ``name=value`` pairs separated
by ``;``, naming the account, its key or a SAS, and its endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from txcloud.errors import InvalidCredsError

__all__ = [
    "DEVELOPMENT_ACCOUNT",
    "DEVELOPMENT_KEY",
    "ConnectionString",
    "connection_string_from_environment",
    "parse_connection_string",
]

#: The account and key of ``UseDevelopmentStorage=true`` (Azurite's, published).
DEVELOPMENT_ACCOUNT = "devstoreaccount1"
DEVELOPMENT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@attrs.frozen(repr=False)
class ConnectionString:
    """
    What a connection string says about Blob storage.

    :ivar account: the account name.
    :ivar blob_endpoint: the blob service's URL (without a final ``/``).
    :ivar account_key: the account key, if given; never shown.
    :ivar sas_token: a SAS token, if given; never shown.
    """

    account: str
    blob_endpoint: str
    account_key: str | None = None
    sas_token: str | None = None

    @property
    def secure(self) -> bool:
        """Whether the endpoint is HTTPS."""
        return urlsplit(self.blob_endpoint).scheme == "https"

    @property
    def host(self) -> str:
        """The endpoint's host."""
        return urlsplit(self.blob_endpoint).hostname or ""

    @property
    def port(self) -> int | None:
        """The endpoint's port, if it names one."""
        return urlsplit(self.blob_endpoint).port

    def __repr__(self) -> str:
        return f"<ConnectionString account={self.account!r} blob_endpoint={self.blob_endpoint!r}>"


def parse_connection_string(text: str, where: str = "the connection string") -> ConnectionString:
    """
    Read a storage connection string.

    ``UseDevelopmentStorage=true`` means the emulator's account at
    ``http://127.0.0.1:10000``; otherwise ``AccountName`` and either
    ``BlobEndpoint`` or ``DefaultEndpointsProtocol`` with
    ``EndpointSuffix`` (``core.windows.net``) give the endpoint.  Names are
    matched whatever their case.

    :param where: where it came from, named in errors (which never quote it).
    :raises InvalidCredsError: for a malformed string, or one naming no
        account or no blob endpoint.
    """
    fields: dict[str, str] = {}
    for part in text.strip().split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise InvalidCredsError(f"{where} is not a list of name=value pairs")
        fields[name.strip().lower()] = value.strip()
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        return ConnectionString(
            DEVELOPMENT_ACCOUNT, f"http://127.0.0.1:10000/{DEVELOPMENT_ACCOUNT}", DEVELOPMENT_KEY
        )
    account = fields.get("accountname")
    endpoint = fields.get("blobendpoint")
    if endpoint is None and account:
        protocol = fields.get("defaultendpointsprotocol", "https")
        suffix = fields.get("endpointsuffix", "core.windows.net")
        endpoint = f"{protocol}://{account}.blob.{suffix}"
    if not endpoint or urlsplit(endpoint).scheme not in ("http", "https"):
        raise InvalidCredsError(f"{where} names no blob endpoint (BlobEndpoint or AccountName)")
    if not account:
        # A SAS connection string may name the account only in its endpoint.
        parts = urlsplit(endpoint)
        path = parts.path.strip("/")
        account = path.split("/")[0] if path else (parts.hostname or "").split(".")[0]
    if not account:
        raise InvalidCredsError(f"{where} names no account (AccountName)")
    return ConnectionString(
        account,
        endpoint.rstrip("/"),
        fields.get("accountkey") or None,
        (fields.get("sharedaccesssignature") or "").lstrip("?") or None,
    )


def connection_string_from_environment(environ: Mapping[str, str]) -> ConnectionString | None:
    """
    The connection string in ``AZURE_STORAGE_CONNECTION_STRING``, if set.

    :raises InvalidCredsError: when it is set but malformed.
    """
    text = environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if not text:
        return None
    return parse_connection_string(text, "AZURE_STORAGE_CONNECTION_STRING")
