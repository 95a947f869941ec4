"""
Who a request comes from: per-cloud credentials and request signers.

One package per cloud, each holding the credentials of that cloud, where to
find them, and how a request is signed with them.  Signers are pure
functions of plain values (method, URL, headers, payload hash, credentials,
time), so they can be checked against the providers' published test
vectors and adapted by the transport in :mod:`txcloud.http`.

* :mod:`txcloud.auth.refresh`: values that expire (temporary credentials,
  access tokens), cached and fetched again before they do, for every cloud.
* :mod:`txcloud.auth.tokens`: sources of OAuth2 bearer tokens (Google's and
  Azure's), shared by the drivers built from the same source.
* :mod:`txcloud.auth.aws`: AWS credentials and where to find them
  (:mod:`~txcloud.auth.aws.credentials`) and Signature Version 4
  (:mod:`~txcloud.auth.aws.sigv4`).
* :mod:`txcloud.auth.azure`: Azure Storage Shared Key signatures
  (:mod:`~txcloud.auth.azure.shared_key`), SAS tokens
  (:mod:`~txcloud.auth.azure.sas`), connection strings, and Azure AD tokens
  in ``DefaultAzureCredential``'s order (:mod:`~txcloud.auth.azure.chain`).
* :mod:`txcloud.auth.google`: Google OAuth2 tokens of service accounts,
  users and the metadata server, in the order of Application Default
  Credentials (:mod:`~txcloud.auth.google.adc`).
* :mod:`txcloud.auth.openstack`: Keystone v3 tokens, and ``OS_CLOUD``,
  ``clouds.yaml`` and the ``OS_*`` variables.
"""
