"""
AWS identity: credentials, where to find them, and Signature Version 4.

* :mod:`~txcloud.auth.aws.credentials`: :class:`AWSCredentials`;
* :mod:`~txcloud.auth.aws.providers`: the provider contract, fixed keys,
  the environment, sharing;
* :mod:`~txcloud.auth.aws.sts`: roles (``AssumeRole``, web identity);
* :mod:`~txcloud.auth.aws.metadata`: EC2 instance (IMDSv2) and container
  credentials;
* :mod:`~txcloud.auth.aws.process`: ``credential_process``;
* :mod:`~txcloud.auth.aws.sso`: IAM Identity Center;
* :mod:`~txcloud.auth.aws.shared_config` and :mod:`~txcloud.auth.aws.profiles`:
  the shared files and the providers their profiles describe;
* :mod:`~txcloud.auth.aws.chain`: the default chain;
* :mod:`~txcloud.auth.aws.endpoints`: regions, endpoints, CA bundles;
* :mod:`~txcloud.auth.aws.sigv4`: Signature Version 4 for headers,
  presigned URLs and S3 chunked uploads.

The package gives the names of the provider modules.
"""

from txcloud.auth.aws import chain, metadata, process, profiles, providers, sso, sts
from txcloud.auth.aws.chain import *  # noqa: F403
from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.metadata import *  # noqa: F403
from txcloud.auth.aws.process import *  # noqa: F403
from txcloud.auth.aws.profiles import *  # noqa: F403
from txcloud.auth.aws.providers import *  # noqa: F403
from txcloud.auth.aws.sso import *  # noqa: F403
from txcloud.auth.aws.sts import *  # noqa: F403

__all__ = [
    "AWSCredentials",
    *chain.__all__,
    *metadata.__all__,
    *process.__all__,
    *profiles.__all__,
    *providers.__all__,
    *sso.__all__,
    *sts.__all__,
]
