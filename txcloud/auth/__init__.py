"""
Request signers.

Signers are pure functions of plain values (method, URL, headers, payload
hash, credentials, time), so they can be checked against the providers'
published test vectors and adapted by the transport in :mod:`txcloud.http`.

* :mod:`txcloud.auth.aws_credentials`: AWS credentials and where to find them.
* :mod:`txcloud.auth.aws_sigv4`: AWS Signature Version 4 (headers, presigned
  URLs and S3 chunked uploads).
* :mod:`txcloud.auth.azure`: Azure Storage Shared Key signatures and SAS
  tokens.
* :mod:`txcloud.auth.google`: Google service-account OAuth2 tokens (signed
  JWTs, cached and refreshed before they expire).
"""
