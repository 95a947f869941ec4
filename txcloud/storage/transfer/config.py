"""
How big transfers are split: when an upload goes multipart and in what
parts, when a download is fetched in ranges, and how many requests run at
once.  One :class:`TransferConfig` per driver, adjusted per call.
"""

from __future__ import annotations

from typing import Any

import attrs

from txcloud.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "NEVER",
    "MiB",
    "TransferConfig",
    "starting_config",
]

MiB = 1024 * 1024

#: Bytes per chunk when streaming objects, unless a caller asks otherwise.
DEFAULT_CHUNK_SIZE = MiB

#: A threshold no object reaches: always one request (one PUT, one GET).
NEVER = 2**63 - 1


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgumentError(f"{attribute.name} must be a positive integer, not {value!r}")


@attrs.frozen
class TransferConfig:
    """
    Sizes and limits of the transfer engine.

    The upload defaults are s3transfer's (boto3's).  The download defaults
    suit a cloud service where each connection streams at a limited rate
    (about 100 MB/s on AWS), so an object of 64 MiB or more gains from
    parallel ranged GETs; ranges of 32 MiB (rather than s3transfer's 8 MiB)
    spread each request's latency over more bytes.  Servers that stream one
    GET at full speed but copy the object for every ranged GET (moto, some
    gateways) are faster with ``download_threshold=NEVER``: on moto, one
    streaming GET of 128 MiB is about twice as fast as four 32 MiB ranges
    and four times as fast as sixteen 8 MiB ones.

    :param multipart_threshold: files and streams of at least this many bytes
        are uploaded in parts.
    :param part_size: bytes per uploaded part (raised when an object would
        need more parts than the provider allows).
    :param max_concurrency: parts uploaded at once; a streamed upload holds at
        most this many parts in memory.
    :param download_threshold: objects (or ranges) of at least this many
        bytes are downloaded as parallel ranged GETs; smaller ones with one
        streaming GET.
    :param range_size: bytes per ranged GET.
    :param download_concurrency: ranged GETs at once.
    :raises InvalidArgumentError: if a value is not a positive integer.
    """

    multipart_threshold: int = attrs.field(default=8 * MiB, validator=_positive)
    part_size: int = attrs.field(default=8 * MiB, validator=_positive)
    max_concurrency: int = attrs.field(default=10, validator=_positive)
    download_threshold: int = attrs.field(default=64 * MiB, validator=_positive)
    range_size: int = attrs.field(default=32 * MiB, validator=_positive)
    download_concurrency: int = attrs.field(default=8, validator=_positive)

    def with_overrides(self, **overrides: int | None) -> TransferConfig:
        """
        A copy with the given fields replaced; ``None`` values are ignored.

        :raises InvalidArgumentError: for an unknown field or a bad value.
        """
        changes = {name: value for name, value in overrides.items() if value is not None}
        unknown = set(changes) - {field.name for field in attrs.fields(TransferConfig)}
        if unknown:
            raise InvalidArgumentError(f"unknown transfer settings: {', '.join(sorted(unknown))}")
        return attrs.evolve(self, **changes) if changes else self


def starting_config(host: str | None) -> TransferConfig:
    """
    The settings an S3-style driver starts from: the defaults for the
    provider's own service, and one streaming GET per download when the user
    gives a *host* (an emulator or gateway, which copies the object for
    every ranged GET).
    """
    return TransferConfig() if host is None else TransferConfig(download_threshold=NEVER)
