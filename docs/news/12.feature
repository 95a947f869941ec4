AWS drivers (EC2, S3, ECS) take ``ex_credentials=`` a credentials provider
whose ``get()`` fires with current credentials, refreshed before they
expire (in the background from 15 minutes before, callers waiting from 10
minutes before, one refresh in flight) and shared by every driver of the
same source, so sixteen regional drivers of one role make one
``AssumeRole``.  Given no keys, drivers follow botocore's chain: the
environment, profiles with ``role_arn`` (``source_profile`` or
``credential_source``), web identity, SSO, ``credential_process``, container
credentials and IMDSv2.  Regions, ``AWS_ENDPOINT_URL*``, the profile's
``services`` and ``AWS_CA_BUNDLE`` are resolved as the AWS SDKs resolve
them; ``txcloud.multi.drivers_for_accounts`` builds drivers for accounts and
regions; S3's ``ex_presign`` waits for temporary credentials; and
``txcloud.testing.aws_credentials`` fakes IMDSv2, container endpoints and
STS.  Google service-account tokens share the refresh machinery
(``txcloud.auth.refresh``): a failed refresh inside the refresh margin now
fails the callers instead of reusing the old token.
