"""
Parsing of EBS volumes and snapshots from answers shaped as the EC2 API
reference shows them (namespace with the trailing slash AWS writes), and
argument checks that need no server.
"""

from __future__ import annotations

from datetime import datetime, timezone

from lxml import etree
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.base import Node, StorageVolume
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.compute.drivers.ec2.parse import parse_snapshot, parse_volume
from txcloud.compute.drivers.ec2.volumes import DEVICE_NAME
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import InvalidArgumentError

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

ATTACHED_VOLUME = f"""
<item xmlns="{NS}">
  <volumeId>vol-0a1b2c3d4e5f60718</volumeId>
  <size>80</size>
  <snapshotId/>
  <availabilityZone>eu-west-1b</availabilityZone>
  <status>in-use</status>
  <createTime>2024-05-01T10:20:30.000Z</createTime>
  <attachmentSet>
    <item>
      <volumeId>vol-0a1b2c3d4e5f60718</volumeId>
      <instanceId>i-0fedcba9876543210</instanceId>
      <device>/dev/sdh</device>
      <status>attached</status>
      <attachTime>2024-05-01T10:25:00.000Z</attachTime>
      <deleteOnTermination>false</deleteOnTermination>
    </item>
  </attachmentSet>
  <tagSet><item><key>Name</key><value>db-data</value></item></tagSet>
  <volumeType>io2</volumeType>
  <iops>6000</iops>
  <encrypted>true</encrypted>
  <kmsKeyId>arn:aws:kms:eu-west-1:111122223333:key/abcd</kmsKeyId>
</item>
"""

PENDING_SNAPSHOT = f"""
<item xmlns="{NS}">
  <snapshotId>snap-0123456789abcdef0</snapshotId>
  <volumeId>vol-0a1b2c3d4e5f60718</volumeId>
  <status>pending</status>
  <startTime>2024-05-02T08:00:00.000Z</startTime>
  <progress>40%</progress>
  <ownerId>111122223333</ownerId>
  <volumeSize>80</volumeSize>
  <description>nightly</description>
  <encrypted>true</encrypted>
</item>
"""


class ParseTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.driver = EC2NodeDriver("k", "s", region="eu-west-1", reactor=Clock())

    def test_an_attached_volume(self) -> None:
        volume = parse_volume(etree.fromstring(ATTACHED_VOLUME), self.driver)
        self.assertEqual(
            (volume.id, volume.name, volume.size, volume.state),
            ("vol-0a1b2c3d4e5f60718", "db-data", 80, StorageVolumeState.INUSE),
        )
        extra = volume.extra
        self.assertEqual(
            (extra["availability_zone"], extra["volume_type"], extra["iops"], extra["encrypted"]),
            ("eu-west-1b", "io2", 6000, True),
        )
        self.assertIsNone(extra["snapshot_id"])
        self.assertEqual(
            extra["create_time"], datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)
        )
        self.assertEqual(
            (extra["instance_id"], extra["device"], extra["attachment_status"]),
            ("i-0fedcba9876543210", "/dev/sdh", "attached"),
        )

    def test_an_untagged_volume_is_named_by_its_id(self) -> None:
        document = ATTACHED_VOLUME.replace(
            "<tagSet><item><key>Name</key><value>db-data</value></item></tagSet>", ""
        )
        self.assertEqual(
            parse_volume(etree.fromstring(document), self.driver).name, "vol-0a1b2c3d4e5f60718"
        )

    def test_a_pending_snapshot(self) -> None:
        snapshot = parse_snapshot(etree.fromstring(PENDING_SNAPSHOT), self.driver)
        self.assertEqual(
            (snapshot.id, snapshot.size, snapshot.state, snapshot.name),
            ("snap-0123456789abcdef0", 80, VolumeSnapshotState.CREATING, None),
        )
        self.assertEqual(snapshot.created, datetime(2024, 5, 2, 8, tzinfo=timezone.utc))
        self.assertEqual(
            (snapshot.extra["volume_id"], snapshot.extra["progress"], snapshot.extra["owner_id"]),
            ("vol-0a1b2c3d4e5f60718", "40%", "111122223333"),
        )


class DeviceNameTests(SynchronousTestCase):
    def test_names_ec2_accepts(self) -> None:
        for name in ("/dev/sdf", "/dev/sdp", "/dev/xvdf", "/dev/xvdba", "/dev/hdb", "/dev/sdf1"):
            self.assertTrue(DEVICE_NAME.fullmatch(name), name)

    def test_names_ec2_refuses(self) -> None:
        for name in ("sdf", "/dev/nvme1n1", "/dev/sd", "/dev/sdF", "/dev/xvdabc", "/dev/sdf/x"):
            self.assertFalse(DEVICE_NAME.fullmatch(name), name)

    def test_attach_refuses_them_before_any_request(self) -> None:
        driver = EC2NodeDriver("k", "s", region="eu-west-1", reactor=Clock())
        node = Node("i-0fedcba9876543210", "db", NodeState.RUNNING, [], [], driver)
        volume = StorageVolume("vol-0a1b2c3d4e5f60718", "db-data", 80, driver)
        for device in (None, "/dev/nvme1n1"):
            self.assertRaises(InvalidArgumentError, driver.attach_volume, node, volume, device)
