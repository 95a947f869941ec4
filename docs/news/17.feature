Compute parity with Libcloud: block storage on EC2 and DigitalOcean
(``list_volumes``, ``create_volume``, ``attach_volume``, ``detach_volume``,
``destroy_volume``, ``list_volume_snapshots``, ``list_snapshots``,
``create_volume_snapshot``, ``destroy_volume_snapshot``; ``StorageVolume``,
``VolumeSnapshot``, ``StorageVolumeState``, ``VolumeSnapshotState``;
``wait_until_volume`` and ``wait_until_snapshot``); EC2 images
(``get_image``, ``create_image``, ``delete_image``, ``copy_image``);
``deploy_node`` and ``txcloud.compute.deployment`` (script, file and key
steps over SSH with twisted.conch, ``known_hosts`` checks,
``DeploymentError``), with ``txcloud.multi.run_deployments`` to deploy to
many nodes at once; the dummy driver's ``ex_public_ips``; volumes in the
inventory; the DigitalOcean fake's volumes and snapshots.  DigitalOcean's
``list_images()`` now lists every image the account sees, public and
private, in one listing, as Libcloud's does (it listed the public
distribution and application images only).
