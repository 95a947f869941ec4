"""
An in-memory EC2 for trial tests of code that uses txcloud's EC2 driver.

One :class:`FakeEC2` is one AWS account in every region at once: each
request is served by the region it was signed for, so drivers for several
regions (and :mod:`txcloud.multi` fanning out over them) can share it::

    clock = Clock()
    ec2 = FakeEC2(clock=clock)
    ec2.add_instance("web-1", region="eu-west-1")
    ec2.add_instance("batch-1", region="us-east-1", state="stopped")
    compute = ec2.driver("eu-west-1")   # EC2NodeDriver(..., ex_agent=ec2.agent(), reactor=clock)
    nodes = self.successResultOf(compute.list_nodes())

or on a real port: ``reactor.listenTCP(0, ec2.site(), interface="127.0.0.1")``
and ``EC2NodeDriver(key, secret, host="127.0.0.1", port=port, secure=False)``.

The Query API calls it answers, in the shapes of the EC2 API reference:
DescribeInstances (``InstanceId.N``, filters with wildcards, ``MaxResults``
and ``NextToken``), RunInstances (image, type, counts, key pair, security
groups by name or id, subnet and zone, tags, user data, client tokens,
public addresses), StartInstances, StopInstances, RebootInstances and
TerminateInstances (instances move ``pending`` -> ``running``, ``stopping``
-> ``stopped``, ``shutting-down`` -> ``terminated`` after
:attr:`FakeEC2.boot_seconds`... on the clock, lose their public address
when stopped, and stay listed an hour once terminated),
DescribeInstanceTypes, DescribeImages (owners, ids, filters),
DescribeAvailabilityZones, DescribeKeyPairs, CreateKeyPair (real RSA or
ED25519 keys and EC2's fingerprints), ImportKeyPair, DeleteKeyPair,
DescribeSecurityGroups, CreateSecurityGroup, DeleteSecurityGroup and
AuthorizeSecurityGroupIngress.  Errors are EC2's
``<Response><Errors><Error>`` documents with its codes
(``InvalidInstanceID.NotFound``, ``InvalidKeyPair.Duplicate``,
``IncorrectInstanceState``, ``InvalidGroup.NotFound``...).

Calls must be signed (an ``Authorization`` header naming the region), but
signatures are not verified; with *access_keys*, other key ids get
``AuthFailure``, as do calls for a region the fake does not serve.

Roles: STS ``AssumeRole`` calls sent here are answered by
:attr:`FakeEC2.sts` (a :class:`~txcloud.testing.aws_credentials.FakeSTS`),
whose session keys the fake accepts until they expire::

    ec2 = FakeEC2(clock=clock, access_keys=[])          # only role sessions get in
    ec2.sts.add_role(ARN, trusted_keys=["AKIDSOURCE"])
    role = AssumeRole(ARN, AWSCredentials("AKIDSOURCE", "s"), sts=ec2.sts.settings(), reactor=clock)
    compute = ec2.driver("eu-west-1", ex_credentials=role)

Faults: :meth:`FakeEC2.fail` answers an EC2 error (for an action, a
region, or both), :meth:`FakeEC2.throttle` ``RequestLimitExceeded`` (which
the driver's transport retries after a backoff on the clock),
:meth:`FakeEC2.delay` and :attr:`FakeEC2.latency` hold answers on the clock.
"""

from txcloud.testing.ec2._models import (
    ACCOUNT_ID,
    FakeImage,
    FakeInstance,
    FakeInstanceType,
    FakeKeyPair,
    FakeRegion,
    FakeRule,
    FakeSecurityGroup,
)
from txcloud.testing.ec2.fake import DEFAULT_KEY, DEFAULT_SECRET, FakeEC2

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_KEY",
    "DEFAULT_SECRET",
    "FakeEC2",
    "FakeImage",
    "FakeInstance",
    "FakeInstanceType",
    "FakeKeyPair",
    "FakeRegion",
    "FakeRule",
    "FakeSecurityGroup",
]
