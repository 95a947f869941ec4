Amazon Web Services: the EC2 compute driver (every region, one driver per
region for fan-out with ``drivers_for_regions``), the S3 storage driver
(also for S3-compatible stores, with parallel multipart uploads, parallel
ranged downloads, streaming uploads of unknown size and presigned URLs) and
the ECS container driver, all signed with SigV4 (``txcloud.auth``).
