"""
Microsoft Azure Blob Storage, and Azurite (or IoT Edge storage) through
``host``/``port``/``secure``.

The driver is constructed like Libcloud's: ``key`` is the storage account's
name and ``secret`` its key (base64, as the portal shows it), or
``ex_sas_token`` a shared access signature instead of the key.  Without a
``host``, requests go to ``https://ACCOUNT.blob.core.windows.net``; a host
that is one of Azure's sovereign-cloud blob endpoints
(``blob.core.chinacloudapi.cn``, ``blob.core.usgovcloudapi.net``,
``privatelink.blob.core.windows.net``) gets the account name in front; any
other host is an emulator reached with path-style URLs
(``http://127.0.0.1:10000/devstoreaccount1/container/blob``).

Without a key or a SAS token, requests carry Azure AD (Entra ID) bearer
tokens instead (``DefaultAzureCredential``'s sources, see
:mod:`txcloud.auth.azure`); ``key=None`` reads
``AZURE_STORAGE_CONNECTION_STRING``.

Every request is authorised with Shared Key, the SAS token or a token, and speaks
REST API version :data:`~txcloud.auth.azure.STORAGE_API_VERSION`.  Blobs are
block blobs.  Large uploads and downloads go through the shared transfer
engine (:mod:`txcloud.storage.transfer.multipart`,
:mod:`txcloud.storage.transfer.ranged`): see :data:`DEFAULT_TRANSFER` for
the sizes.  ``Object.hash`` is the blob's ETag, as in Libcloud, and
``Object.extra['md5_hash']`` the MD5 Azure keeps, which downloads are
checked against.

The package's modules:

* :mod:`~txcloud.storage.drivers.azure_blobs.driver`: AzureBlobsStorageDriver: containers, blobs,
  listings and transfers;
* :mod:`~txcloud.storage.drivers.azure_blobs.connection`: the account, its endpoint, Shared Key or
  SAS authorisation, Azure's errors;
* :mod:`~txcloud.storage.drivers.azure_blobs.parse`: container and blob name rules, XML listings,
  upload options;
* :mod:`~txcloud.storage.drivers.azure_blobs.upload`: block blob uploads (the transfer engine's
  target).
"""

from txcloud.storage.drivers.azure_blobs.driver import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_TRANSFER,
    AzureBlobsStorageDriver,
)

__all__ = ["DEFAULT_PAGE_SIZE", "DEFAULT_TRANSFER", "AzureBlobsStorageDriver"]
