"""
:class:`GCENodeDriver`: instances, machine types, images and zones through
the Compute Engine API v1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.python.failure import Failure

from txcloud.common.checks import check_positive_integer
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.gce.parse import (
    check_name,
    check_project,
    is_deprecated,
    parse_image,
    parse_location,
    parse_node,
    parse_size,
)
from txcloud.compute.drivers.gce.volumes import GCEVolumesMixin
from txcloud.errors import InvalidArgumentError

__all__ = ["DEFAULT_DISK_TYPE", "IMAGE_PROJECTS", "GCENodeDriver"]

#: The public image projects :meth:`GCENodeDriver.list_images` lists besides
#: the driver's own project (Libcloud's list).
IMAGE_PROJECTS = (
    "centos-cloud",
    "cos-cloud",
    "debian-cloud",
    "fedora-coreos-cloud",
    "rhel-cloud",
    "rhel-sap-cloud",
    "rocky-linux-cloud",
    "suse-cloud",
    "suse-sap-cloud",
    "ubuntu-os-cloud",
    "ubuntu-os-pro-cloud",
    "windows-cloud",
    "windows-sql-cloud",
)

#: The boot disk's type unless ``ex_disk_type`` says otherwise.
DEFAULT_DISK_TYPE = "pd-standard"


def _model_name(value: object, model: type, what: str) -> str:
    # A model or its name: a NodeSize or "e2-medium".
    if isinstance(value, model):
        value = getattr(value, "name", None)
    return check_name(value, what)


class GCENodeDriver(GCEVolumesMixin):
    """
    Google Compute Engine instances, constructed as in Libcloud::

        driver = GCENodeDriver("sa@my-project.iam.gserviceaccount.com",
                               "/path/to/key.json", project="my-project")
        driver = GCENodeDriver(project="my-project")   # Application Default Credentials
        nodes = await driver.list_nodes()

    :param user_id: the service account's e-mail address (``client_email``;
        read from the key when ``None``).
    :param key: the service account's JSON key: the file's path, its text or
        the parsed dict (``secret`` is accepted for it, as the configuration
        file names it).  Tokens come from the key's ``token_uri``.  With
        neither *user_id* nor *key*, credentials are found as Google's own
        libraries find them (:mod:`txcloud.auth.google.adc`).
    :param datacenter: the default zone (``"us-central1-a"``) of
        :meth:`create_node` and :meth:`list_sizes`.
    :param project: the project; else ``GOOGLE_CLOUD_PROJECT``, the key's
        ``project_id``, or the metadata server's project.
    :param host: another endpoint for the API only (a fake); with *port* and
        *secure*.  Token requests still go to the key's ``token_uri``.
    :param ex_scopes: the OAuth2 scopes asked for (Compute Engine's).
    :param ex_credentials: a :class:`~txcloud.auth.google.adc.GoogleCredentials`
        or :class:`~txcloud.auth.tokens.TokenSource` to use instead.
    :param ex_environ: the environment ADC and ``GOOGLE_CLOUD_PROJECT`` are
        read from; :data:`os.environ` when ``None``.
    :param ex_page_size: items asked for per page (1..500).
    :param ex_poll_interval: seconds between polls of an operation (2).
    :param ex_operation_timeout: seconds an operation may take (180).
    :param kwargs: :class:`~txcloud.common.http_driver.HTTPDriver`'s
        arguments: ``reactor``, ``timeout``, ``ex_retry``, ``ex_pool``,
        ``ex_agent``...
    :raises InvalidArgumentError: for a malformed zone, project or key, a
        *user_id* without a key, or no project to be found, before any request.

    Reads are retried after throttling (``rateLimitExceeded``, 429) and
    server errors; so are changes, which carry a ``requestId`` so that
    Google does each once.
    """

    # Nodes

    def iterate_nodes(self, ex_zone: NodeLocation | str | None = None) -> AsyncIterator[Node]:
        """
        The instances of the project, a page at a time: of every zone (one
        ``aggregatedList``), or of *ex_zone* only.

        :raises InvalidArgumentError: for a malformed zone, before any request.
        """
        zone = None if ex_zone is None else self._zone_name(ex_zone)
        return self._iterate_nodes(zone)

    async def _iterate_nodes(self, zone: str | None) -> AsyncIterator[Node]:
        async for item in self._zoned("instances", zone):
            yield parse_node(item, self)

    def list_nodes(self, ex_zone: NodeLocation | str | None = None) -> Deferred[list[Node]]:
        """
        List the instances of every zone with one ``aggregatedList`` (paged),
        or those of *ex_zone* (Libcloud's argument).

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.Node`.
        :raises InvalidArgumentError: for a malformed zone, before any request.
        """
        return collect(self.iterate_nodes(ex_zone))

    def ex_get_node(self, name: str, zone: str | NodeLocation | None = None) -> Deferred[Node]:
        """
        Fetch one instance.

        :param zone: its zone; the driver's ``datacenter`` by default.
        :returns: a Deferred firing with the :class:`~txcloud.compute.base.Node`,
            or failing with :class:`~txcloud.errors.NodeNotFoundError`.
        """
        path = self._instance_path(self._zone_name(zone), name)
        return Deferred.fromCoroutine(self._get_node(path))

    async def _get_node(self, path: str) -> Node:
        return parse_node(await self._call("GET", await self._url(path)), self)

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | str | None = None,
        *,
        ex_network: str = "default",
        ex_subnetwork: str | None = None,
        ex_external_ip: bool = True,
        ex_disk_size: int | None = None,
        ex_disk_type: str = DEFAULT_DISK_TYPE,
        ex_tags: Iterable[str] | None = None,
        ex_labels: Mapping[str, str] | None = None,
        ex_metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Deferred[Node]:
        """
        Create an instance with a boot disk made from *image* (deleted with
        it) and one interface on *ex_network*, wait for the operation to be
        done, and fetch the instance.

        :param name: the instance's name (RFC 1035: ``web-1``).
        :param size: a :class:`~txcloud.compute.base.NodeSize` or a machine
            type's name (``"e2-medium"``).
        :param image: a :class:`~txcloud.compute.base.NodeImage` from
            :meth:`list_images`, an image's name in the driver's project, or
            a path such as ``"projects/debian-cloud/global/images/family/debian-12"``.
        :param location: a zone (:class:`~txcloud.compute.base.NodeLocation`
            or name); the driver's ``datacenter`` by default.
        :param ex_network: the VPC network's name.
        :param ex_subnetwork: the subnetwork's name, in the zone's region.
        :param ex_external_ip: give the instance an ephemeral public address.
        :param ex_disk_size: the boot disk's size in GB (the image's by default).
        :param ex_disk_type: the boot disk's type (``pd-standard``,
            ``pd-balanced``, ``pd-ssd``...).
        :param ex_tags: network tags.
        :param ex_labels: labels.
        :param ex_metadata: metadata items (``startup-script``, ``ssh-keys``...).
        :returns: a Deferred firing with the new :class:`~txcloud.compute.base.Node`;
            it fails with :class:`~txcloud.errors.QuotaExceededError`,
            :class:`~txcloud.errors.ResourceConflictError` (the name is
            taken) or another typed error of the request or the operation.
        :raises InvalidArgumentError: for malformed arguments, before any
            request; an unknown zone fails the Deferred with it before the
            instance is asked for.
        """
        if kwargs:
            raise InvalidArgumentError(f"unknown arguments: {', '.join(sorted(kwargs))}", self)
        zone = self._zone_name(location)
        machine_type = _model_name(size, NodeSize, "size")
        interface: dict[str, Any] = {
            "network": f"global/networks/{check_name(ex_network, 'ex_network')}"
        }
        if ex_subnetwork is not None:
            interface["subnetwork"] = check_name(ex_subnetwork, "ex_subnetwork")
        if not isinstance(ex_external_ip, bool):
            raise InvalidArgumentError("ex_external_ip must be True or False", self)
        if ex_external_ip:
            interface["accessConfigs"] = [{"name": "External NAT", "type": "ONE_TO_ONE_NAT"}]
        disk: dict[str, Any] = {
            "sourceImage": self._image_path(image),
            "diskType": f"zones/{zone}/diskTypes/{check_name(ex_disk_type, 'ex_disk_type')}",
        }
        if ex_disk_size is not None:
            disk["diskSizeGb"] = str(check_positive_integer(ex_disk_size, "ex_disk_size", "GB"))
        body: dict[str, Any] = {
            "name": check_name(name),
            "machineType": f"zones/{zone}/machineTypes/{machine_type}",
            "disks": [
                {"boot": True, "autoDelete": True, "type": "PERSISTENT", "initializeParams": disk}
            ],
            "networkInterfaces": [interface],
        }
        if ex_tags is not None:
            body["tags"] = {
                "items": [check_name(tag, "each of ex_tags") for tag in _listed(ex_tags, "ex_tags")]
            }
        if ex_labels is not None:
            body["labels"] = dict(_mapping(ex_labels, "ex_labels"))
        if ex_metadata is not None:
            items = _mapping(ex_metadata, "ex_metadata")
            body["metadata"] = {"items": [{"key": k, "value": v} for k, v in items.items()]}
        return Deferred.fromCoroutine(self._create_node(zone, body))

    async def _create_node(self, zone: str, body: dict[str, Any]) -> Node:
        await self._known_zone(zone)
        url = await self._url(f"/zones/{zone}/instances")
        await self._finish(await self._call("POST", url, body=body))
        return await self._get_node(self._instance_path(zone, body["name"]))

    def _operate(self, node: Node, method: str, action: str = "") -> Deferred[bool]:
        path = self._node_path(node, action)
        return Deferred.fromCoroutine(self._act(method, path))

    async def _act(self, method: str, path: str) -> bool:
        await self._finish(await self._call(method, await self._url(path)))
        return True

    def reboot_node(self, node: Node) -> Deferred[bool]:
        """Reset *node* (a hard reboot, as in Libcloud); fires with ``True`` once done."""
        return self._operate(node, "POST", "reset")

    def start_node(self, node: Node) -> Deferred[bool]:
        """Start a stopped *node*; fires with ``True`` once done."""
        return self._operate(node, "POST", "start")

    def stop_node(self, node: Node) -> Deferred[bool]:
        """Stop *node* (its status becomes ``TERMINATED``); fires with ``True`` once done."""
        return self._operate(node, "POST", "stop")

    def destroy_node(self, node: Node) -> Deferred[bool]:
        """
        Delete *node* (and its boot disk, which is deleted with it); fires
        with ``True`` once done, or fails with :class:`~txcloud.errors.NodeNotFoundError`.
        """
        return self._operate(node, "DELETE")

    # Zones

    def list_locations(self) -> Deferred[list[NodeLocation]]:
        """
        List the project's zones.

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeLocation`.
        """
        return collect(self._parsed("/zones", parse_location))

    async def _parsed(self, path: str, parse: Any) -> AsyncIterator[Any]:
        async for item in self._items(await self._url(path)):
            yield parse(item, self)

    # Sizes

    def list_sizes(self, location: NodeLocation | str | None = None) -> Deferred[list[NodeSize]]:
        """
        List machine types: those of *location* (else of the driver's
        ``datacenter``), or with neither every zone's, one entry per zone,
        in one ``aggregatedList`` (as Libcloud).

        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeSize`.
        :raises InvalidArgumentError: for a malformed zone, before any request.
        """
        if location is None and self.datacenter is None:
            return collect(self._all_sizes())
        zone = self._zone_name(location)
        return collect(self._zone_sizes(zone))

    async def _all_sizes(self) -> AsyncIterator[NodeSize]:
        url = await self._url("/aggregated/machineTypes")
        async for item in self._aggregated(url, "machineTypes"):
            yield parse_size(item, self)

    async def _zone_sizes(self, zone: str) -> AsyncIterator[NodeSize]:
        await self._known_zone(zone)
        async for size in self._parsed(f"/zones/{zone}/machineTypes", parse_size):
            yield size

    # Images

    def list_images(
        self,
        location: NodeLocation | None = None,
        ex_project: str | Iterable[str] | None = None,
        ex_include_deprecated: bool = False,
    ) -> Deferred[list[NodeImage]]:
        """
        List images: the project's own and those of the public image
        projects (:data:`IMAGE_PROJECTS`), fetched at once.  A project that
        fails is skipped with a logged warning; when every one fails, the
        first failure is raised.

        :param location: ignored (images are global), as in Libcloud.
        :param ex_project: list only this project (or these projects).
        :param ex_include_deprecated: keep deprecated, obsolete and deleted images.
        :returns: a Deferred firing with a list of :class:`~txcloud.compute.base.NodeImage`,
            project by project.
        """
        if isinstance(ex_project, str):
            projects: list[str | None] = [check_project(ex_project, "ex_project")]
        elif ex_project is not None:
            projects = [
                check_project(p, "each of ex_project") for p in _listed(ex_project, "ex_project")
            ]
        else:
            projects = [None, *IMAGE_PROJECTS]
        if not isinstance(ex_include_deprecated, bool):
            raise InvalidArgumentError("ex_include_deprecated must be True or False", self)
        fetching = [collect(self._project_images(p, ex_include_deprecated)) for p in projects]
        results = DeferredList(fetching, consumeErrors=True)
        return results.addCallback(self._gather_images, projects)

    async def _project_images(
        self, project: str | None, deprecated: bool
    ) -> AsyncIterator[NodeImage]:
        project = project or await self._project()
        async for item in self._items(await self._url("/global/images", project)):
            if deprecated or not is_deprecated(item):
                yield parse_image(item, self, project)

    def _gather_images(
        self, outcomes: list[tuple[bool, Any]], projects: list[str | None]
    ) -> list[NodeImage]:
        images: list[NodeImage] = []
        failures: list[Failure] = []
        for project, (succeeded, value) in zip(projects, outcomes, strict=True):
            if succeeded:
                images.extend(value)
                continue
            failures.append(value)
            self.log.warn(
                "Skipped the images of project {project}: {error}",
                project=project or self.project,
                error=value.getErrorMessage(),
            )
        if failures and len(failures) == len(projects):
            failures[0].raiseException()
        return images


def _listed(values: object, what: str) -> list[object]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes, Mapping)):
        raise InvalidArgumentError(f"{what} must be a list")
    return list(values)


def _mapping(values: object, what: str) -> dict[str, str]:
    if not isinstance(values, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in values.items()
    ):
        raise InvalidArgumentError(f"{what} must map text keys to text values")
    return dict(values)
