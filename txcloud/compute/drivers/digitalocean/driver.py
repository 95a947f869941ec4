"""
:class:`DigitalOceanNodeDriver`: droplets, sizes, images, regions and SSH
keys through DigitalOcean's API v2.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from txcloud.common.paging import collect
from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.digitalocean.api import (
    MAX_PER_PAGE,
    Params,
    check_per_page,
)
from txcloud.compute.drivers.digitalocean.parse import (
    parse_image,
    parse_key_pair,
    parse_location,
    parse_node,
    parse_size,
)
from txcloud.compute.drivers.digitalocean.volumes import DigitalOceanVolumesMixin
from txcloud.errors import InvalidArgumentError, KeyPairDoesNotExistError

__all__ = ["CREATE_ATTRIBUTES", "IMAGE_TYPES", "MAX_USER_DATA", "DigitalOceanNodeDriver"]

_T = TypeVar("_T")

#: Largest user data DigitalOcean accepts, in bytes.
MAX_USER_DATA = 64 * 1024

#: The image types ``list_images(ex_type=...)`` narrows to.
IMAGE_TYPES = ("distribution", "application")

# Hostname characters, which DigitalOcean requires of droplet names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$")
_DIGITS = re.compile(r"^[0-9]+$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){15}$")
_TAG = re.compile(r"^[A-Za-z0-9_:-]{1,255}$")
_PUBLIC_KEY = re.compile(r"^(ssh|ecdsa|sk)-[\w@.-]+ [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$")


def _text(value: object, what: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty string")
    if pattern is not None and not pattern.match(value):
        raise InvalidArgumentError(f"{what}: {value!r} is not valid")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, not {value!r}")
    return value


def _list(values: object, what: str) -> list[object]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes, Mapping)):
        raise InvalidArgumentError(f"{what} must be a list")
    return list(values)


def _texts(values: object, what: str, pattern: re.Pattern[str] | None = None) -> list[str]:
    return [_text(value, f"each of {what}", pattern) for value in _list(values, what)]


def _droplet_id(value: object, what: str = "node_id") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.match(value):
        raise InvalidArgumentError(f"{what} must be a droplet id (digits), not {value!r}")
    return value


def _node_id(node: object) -> str:
    if not isinstance(node, Node):
        raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}")
    return _droplet_id(node.id, "the node's id")


def _slug(value: object, model: type, what: str) -> str:
    # Models or their slugs: a NodeSize or "s-1vcpu-1gb".
    if isinstance(value, model):
        value = getattr(value, "id", None)
    return _text(value, what)


def _image_ref(image: object) -> int | str:
    # DigitalOcean takes an image's numeric id or a public image's slug.
    if isinstance(image, NodeImage):
        image = image.id
    if isinstance(image, int) and not isinstance(image, bool):
        return image
    text = _text(image, "image")
    return int(text) if _DIGITS.match(text) else text


def _ssh_key_ref(key: object) -> int | str:
    # An SSH key is named by its numeric id or its MD5 fingerprint.
    if isinstance(key, KeyPair):
        key = key.extra.get("id", key.fingerprint)
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    text = _text(key, "an SSH key")
    if _DIGITS.match(text):
        return int(text)
    if not _FINGERPRINT.match(text):
        raise InvalidArgumentError(f"{text!r} is not an SSH key id or fingerprint")
    return text


def _ssh_keys(keys: object) -> list[int | str]:
    return [_ssh_key_ref(key) for key in _list(keys, "ex_ssh_keys")]


def _user_data(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError("ex_user_data must be text")
    if len(value.encode("utf-8")) > MAX_USER_DATA:
        raise InvalidArgumentError(f"ex_user_data is over {MAX_USER_DATA} bytes")
    return value


#: The ``ex_create_attr`` keys ``create_node`` accepts, each with its check.
CREATE_ATTRIBUTES: dict[str, Callable[[object], object]] = {
    "backups": lambda value: _flag(value, "backups"),
    "ipv6": lambda value: _flag(value, "ipv6"),
    "monitoring": lambda value: _flag(value, "monitoring"),
    "private_networking": lambda value: _flag(value, "private_networking"),
    "with_droplet_agent": lambda value: _flag(value, "with_droplet_agent"),
    "ssh_keys": _ssh_keys,
    "tags": lambda value: _texts(value, "tags", _TAG),
    "user_data": _user_data,
    "vpc_uuid": lambda value: _text(value, "vpc_uuid"),
    "volumes": lambda value: _texts(value, "volumes"),
}


def _in_region(node: Node, region: str) -> bool:
    slug = node.extra.get("region_slug") or ""
    # A data-centre prefix ("nyc") covers each of its regions.
    return slug == region or (region.isalpha() and slug.startswith(region))


def _only(items: list[_T], keep: Callable[[_T], bool]) -> list[_T]:
    return [item for item in items if keep(item)]


class DigitalOceanNodeDriver(DigitalOceanVolumesMixin):
    """
    DigitalOcean droplets, constructed as in Libcloud::

        driver = DigitalOceanNodeDriver(token, region="nyc3")
        nodes = await driver.list_nodes()

    :param key: a personal access token, sent as ``Authorization: Bearer``
        and never shown in reprs, logs or errors.
    :param secret: refused: DigitalOcean needs the token alone.
    :param secure: HTTPS (the default) or HTTP, with *host* and *port* to
        point the driver at a local fake.
    :param api_version: ``"v2"`` (or ``None``), the only version.
    :param region: a region slug (``"nyc3"``) or data-centre prefix
        (``"nyc"``): where :meth:`create_node` puts droplets when given no
        location.  Listings cover every region, as in Libcloud, unless
        *ex_region_only* is set.
    :param ex_per_page: items asked for per page (1..200, 200 by default).
    :param ex_region_only: list only the droplets of *region*, so that a
        fan-out over one driver per region (the inventory's one target per
        region) does not list each droplet once per driver.  Each driver
        still pages through every droplet of the account.
    :param kwargs: :class:`~txcloud.common.http_driver.HTTPDriver`'s
        arguments: ``reactor``, ``timeout``, ``ex_retry``, ``ex_pool``,
        ``ex_agent``...
    :raises InvalidArgumentError: for a missing or malformed token, a
        secret, another API version, a bad region slug or page size, or
        *ex_region_only* without a region.

    The transport retries GET and DELETE requests after 429 and server
    errors; creating droplets, droplet actions and key uploads are POSTs,
    sent once.  While the token has no requests left
    (``ratelimit-remaining`` reached 0) every request waits on the reactor
    until ``ratelimit-reset``; :attr:`ex_rate_limit` shows the latest
    figures.
    """

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        api_version: str | None = None,
        region: str | None = None,
        *,
        ex_per_page: int = MAX_PER_PAGE,
        ex_region_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            key, secret, secure, host, port, api_version, region, ex_per_page=ex_per_page, **kwargs
        )
        if _flag(ex_region_only, "ex_region_only") and region is None:
            raise InvalidArgumentError("ex_region_only needs a region", self)
        self.ex_region_only = ex_region_only

    # Nodes

    def iterate_nodes(
        self, ex_tag_name: str | None = None, ex_per_page: int | None = None
    ) -> AsyncIterator[Node]:
        """
        The droplets of the account, a page at a time.

        :param ex_tag_name: only droplets with this tag.
        :param ex_per_page: droplets per page (1..200); the driver's
            ``ex_per_page`` by default.
        :returns: an async iterator of :class:`~txcloud.compute.base.Node`
            (only those of the driver's region with ``ex_region_only``).
        :raises InvalidArgumentError: for bad arguments, before any request.
        """
        params: Params = {}
        if ex_tag_name is not None:
            params["tag_name"] = _text(ex_tag_name, "ex_tag_name", _TAG)
        per_page = None if ex_per_page is None else check_per_page(ex_per_page)
        return self._iterate_nodes(params, per_page)

    async def _iterate_nodes(self, params: Params, per_page: int | None) -> AsyncIterator[Node]:
        async for item in self._items("/v2/droplets", "droplets", params, per_page):
            node = parse_node(item, self)
            if not self.ex_region_only or _in_region(node, self.region or ""):
                yield node

    def list_nodes(
        self, ex_tag_name: str | None = None, ex_per_page: int | None = None
    ) -> Deferred[list[Node]]:
        """
        List the droplets, every page; see :meth:`iterate_nodes`.

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.Node`.
        """
        return collect(self.iterate_nodes(ex_tag_name, ex_per_page))

    def ex_get_node_details(self, node_id: str | int) -> Deferred[Node]:
        """
        Fetch one droplet by id.

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.Node`,
            or failing with :class:`~txcloud.errors.NodeNotFoundError`.
        """
        path = f"/v2/droplets/{_droplet_id(node_id)}"
        return Deferred.fromCoroutine(self._get_node(path))

    async def _get_node(self, path: str) -> Node:
        return parse_node(await self._get_object(path, "droplet"), self)

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str | int,
        location: NodeLocation | str | None = None,
        *,
        ex_ssh_keys: Iterable[KeyPair | int | str] | None = None,
        ex_user_data: str | None = None,
        ex_tags: Iterable[str] | None = None,
        ex_create_attr: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create a droplet.  DigitalOcean answers at once with its status
        ``new`` (PENDING); :meth:`wait_until_running` waits for it to run.

        :param name: the droplet's hostname (letters, digits, ``.`` and ``-``).
        :param size: a :class:`~txcloud.compute.base.NodeSize` or a size slug.
        :param image: a :class:`~txcloud.compute.base.NodeImage`, an image id,
            or a public image's slug (``"ubuntu-24-04-x64"``).
        :param location: a :class:`~txcloud.compute.base.NodeLocation` or a
            region slug; the driver's ``region`` by default, and without one
            DigitalOcean picks a region.
        :param ex_ssh_keys: keys to install: :class:`~txcloud.compute.base.KeyPair`
            objects, key ids or fingerprints.
        :param ex_user_data: cloud-init user data, at most 64 KiB.
        :param ex_tags: tags for the droplet.
        :param ex_create_attr: more attributes of DigitalOcean's create
            request, as in Libcloud: ``backups``, ``ipv6``, ``monitoring``,
            ``private_networking``, ``with_droplet_agent`` (booleans),
            ``ssh_keys``, ``tags``, ``user_data``, ``vpc_uuid``, ``volumes``.
            Libcloud ignores unknown keys; txcloud refuses them.
        :returns: a Deferred firing with the new :class:`~txcloud.compute.base.Node`.
        :raises InvalidArgumentError: for bad or unknown arguments, or an
            attribute given twice, before any request.
        """
        if kwargs:
            raise InvalidArgumentError(f"unknown arguments: {', '.join(sorted(kwargs))}", self)
        body: dict[str, Any] = {
            "name": _text(name, "name", _NAME),
            "size": _slug(size, NodeSize, "size"),
            "image": _image_ref(image),
        }
        region = self._region_of(location)
        if region is not None:
            body["region"] = region
        attributes = dict(ex_create_attr or {})
        for key, value in attributes.items():
            check = CREATE_ATTRIBUTES.get(key)
            if check is None:
                raise InvalidArgumentError(f"ex_create_attr: unknown attribute {key!r}", self)
            body[key] = check(value)
        for key, value, check in (
            ("ssh_keys", ex_ssh_keys, CREATE_ATTRIBUTES["ssh_keys"]),
            ("tags", ex_tags, CREATE_ATTRIBUTES["tags"]),
            ("user_data", ex_user_data, CREATE_ATTRIBUTES["user_data"]),
        ):
            if value is None:
                continue
            if key in attributes:
                raise InvalidArgumentError(f"{key} given both as ex_ and in ex_create_attr", self)
            body[key] = check(value)
        return Deferred.fromCoroutine(self._create_node(body))

    async def _create_node(self, body: dict[str, Any]) -> Node:
        document = await self._call("POST", "/v2/droplets", body=body)
        return parse_node(self._object(document, "droplet", "POST /v2/droplets"), self)

    def _action(self, node: Node, action: str) -> Deferred[bool]:
        path = f"/v2/droplets/{_node_id(node)}/actions"
        return Deferred.fromCoroutine(self._post_action(path, action))

    async def _post_action(self, path: str, action: str) -> bool:
        document = await self._call("POST", path, body={"type": action})
        self._object(document, "action", f"POST {path}")
        return True

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Reboot *node* gracefully (action ``reboot``); fires with ``True`` once accepted."""
        return self._action(node, "reboot")

    def start_node(self, node: Node) -> Deferred[bool]:
        """Power *node* on (action ``power_on``); fires with ``True`` once accepted."""
        return self._action(node, "power_on")

    def stop_node(self, node: Node, ex_force: bool = False) -> Deferred[bool]:
        """
        Stop *node*: a graceful ``shutdown``, or with *ex_force* a hard
        ``power_off``; fires with ``True`` once accepted.
        """
        return self._action(node, "power_off" if _flag(ex_force, "ex_force") else "shutdown")

    def ex_power_on_node(self, node: Node) -> Deferred[bool]:
        """Libcloud's name for :meth:`start_node`."""
        return self.start_node(node)

    def ex_shutdown_node(self, node: Node) -> Deferred[bool]:
        """Shut *node* down gracefully (Libcloud's name; :meth:`stop_node` does the same)."""
        return self._action(node, "shutdown")

    def ex_hard_reboot(self, node: Node) -> Deferred[bool]:
        """Power-cycle *node* (action ``power_cycle``); fires with ``True`` once accepted."""
        return self._action(node, "power_cycle")

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """Destroy *node*; fires with ``True``, or fails with NodeNotFoundError."""
        path = f"/v2/droplets/{_node_id(node)}"
        return Deferred.fromCoroutine(self._delete(path))

    # Sizes, images, locations

    def list_sizes(self, location: NodeLocation | None = None) -> Deferred[list[NodeSize]]:
        """
        List the droplet sizes.

        :param location: only sizes offered in this region.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeSize`.
        """
        region = self._location_id(location)
        sizes = collect(self._parsed("/v2/sizes", "sizes", {}, parse_size))
        if region is None:
            return sizes
        return sizes.addCallback(_only, lambda size: region in size.extra["regions"])

    def _location_id(self, location: object) -> str | None:
        if location is None:
            return None
        if not isinstance(location, NodeLocation):
            raise InvalidArgumentError("location must be a NodeLocation", self)
        return location.id

    def iterate_images(
        self, ex_type: str | None = None, ex_private: bool = False
    ) -> AsyncIterator[NodeImage]:
        """
        Images, a page at a time: as Libcloud lists them, one listing of
        every image the account sees, public and private (its snapshots,
        backups and custom images included).

        :param ex_type: ``"distribution"`` or ``"application"``: only those.
        :param ex_private: only the account's own images.
        :returns: an async iterator of :class:`~txcloud.compute.base.NodeImage`.
        :raises InvalidArgumentError: for another type, before any request.
        """
        if ex_type is not None and ex_type not in IMAGE_TYPES:
            raise InvalidArgumentError(f"ex_type must be one of {IMAGE_TYPES}, not {ex_type!r}")
        query: Params = {}
        if ex_type is not None:
            query["type"] = ex_type
        if _flag(ex_private, "ex_private"):
            query["private"] = "true"
        return self._parsed("/v2/images", "images", query, parse_image)

    def list_images(
        self,
        location: NodeLocation | None = None,
        ex_type: str | None = None,
        ex_private: bool = False,
    ) -> Deferred[list[NodeImage]]:
        """
        List images; see :meth:`iterate_images`.

        :param location: only images available in this region.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeImage`.
        """
        region = self._location_id(location)
        images = collect(self.iterate_images(ex_type, ex_private))
        if region is None:
            return images
        return images.addCallback(_only, lambda image: region in (image.extra["regions"] or []))

    def list_locations(self, ex_available: bool = True) -> Deferred[list[NodeLocation]]:
        """
        List the regions.

        :param ex_available: only regions where droplets can be created now.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeLocation`.
        """
        locations = collect(self._parsed("/v2/regions", "regions", {}, parse_location))
        if not _flag(ex_available, "ex_available"):
            return locations
        return locations.addCallback(_only, lambda location: location.extra["available"] is True)

    # Key pairs

    def iterate_key_pairs(self) -> AsyncIterator[KeyPair]:
        """The account's SSH keys, a page at a time."""
        return self._parsed("/v2/account/keys", "ssh_keys", {}, parse_key_pair)

    def list_key_pairs(self) -> Deferred[list[KeyPair]]:
        """List the SSH keys; fires with a list of :class:`~txcloud.compute.base.KeyPair`."""
        return collect(self.iterate_key_pairs())

    def get_key_pair(self, name: str) -> Deferred[KeyPair]:
        """
        Find the SSH key called *name* (the first, should several share it).

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.KeyPair`,
            or failing with :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        return Deferred.fromCoroutine(self._get_key_pair(_text(name, "name")))

    async def _get_key_pair(self, name: str) -> KeyPair:
        async for key_pair in self.iterate_key_pairs():
            if key_pair.name == name:
                return key_pair
        raise KeyPairDoesNotExistError(f"no SSH key named {name!r}", self)

    def create_key_pair(self, name: str, public_key: str | None = None) -> Deferred[KeyPair]:
        """
        Upload *public_key* as the SSH key *name*: Libcloud's signature, as
        DigitalOcean stores public keys only and makes none.

        :raises InvalidArgumentError: without a public key.
        """
        if public_key is None:
            raise InvalidArgumentError(
                "DigitalOcean stores public keys only: pass public_key "
                "(or use import_key_pair_from_string)",
                self,
            )
        return self.import_key_pair_from_string(name, public_key)

    def import_key_pair_from_string(self, name: str, key_material: str) -> Deferred[KeyPair]:
        """
        Upload an OpenSSH public key (``"ssh-ed25519 AAAA... comment"``) as
        the SSH key *name*.

        :returns: a Deferred firing with the :class:`~txcloud.compute.base.KeyPair`;
            it fails with :class:`~txcloud.errors.KeyPairAlreadyExistsError`
            if the key is already uploaded.
        :raises InvalidArgumentError: for an empty name or a malformed key.
        """
        public_key = _text(key_material, "key_material").strip()
        if not _PUBLIC_KEY.match(public_key):
            raise InvalidArgumentError("key_material is not an OpenSSH public key", self)
        body = {"name": _text(name, "name"), "public_key": public_key}
        return Deferred.fromCoroutine(self._upload_key(body))

    async def _upload_key(self, body: dict[str, str]) -> KeyPair:
        document = await self._call("POST", "/v2/account/keys", body=body)
        return parse_key_pair(self._object(document, "ssh_key", "POST /v2/account/keys"), self)

    def delete_key_pair(self, key_pair: KeyPair | int | str) -> Deferred[bool]:
        """
        Delete an SSH key: a :class:`~txcloud.compute.base.KeyPair`, a key id
        or a fingerprint.

        :returns: a Deferred firing with ``True``, or failing with
            :class:`~txcloud.errors.KeyPairDoesNotExistError`.
        """
        path = f"/v2/account/keys/{_ssh_key_ref(key_pair)}"
        return Deferred.fromCoroutine(self._delete(path))

    # Account

    def ex_account_info(self) -> Deferred[dict[str, Any]]:
        """
        The account's details (``droplet_limit``, ``email``, ``status``...).

        :returns: a Deferred firing with DigitalOcean's ``account`` object.
        """
        return Deferred.fromCoroutine(self._get_object("/v2/account", "account"))
