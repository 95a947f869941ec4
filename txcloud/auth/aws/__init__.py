"""
AWS identity: :mod:`~txcloud.auth.aws.credentials` (access keys, session
tokens, and where the AWS SDKs find them) and :mod:`~txcloud.auth.aws.sigv4`
(Signature Version 4 for headers, presigned URLs and S3 chunked uploads).
"""
