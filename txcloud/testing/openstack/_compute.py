"""
The fake's Nova (compute API v2.1): servers and their actions, flavors,
key pairs and availability zones, for one region per request.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import TYPE_CHECKING, Any

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from txcloud.testing._http import Received, Reply
from txcloud.testing.digitalocean.models import fingerprint
from txcloud.testing.openstack._identity import Grant
from txcloud.testing.openstack._models import (
    FakeFlavor,
    FakeImage,
    FakeKeyPair,
    FakeServer,
    FakeUser,
)
from txcloud.testing.openstack._paging import json_answer, nova_error, page

if TYPE_CHECKING:
    from txcloud.testing.openstack._volumes import FakeVolume

__all__ = ["ComputeActions", "NovaCall"]

_KEY_NAME = re.compile(r"^[A-Za-z0-9 _@.-]{1,255}$")


@attrs.frozen
class NovaCall:
    """A request to Nova: the region, its base URL, the token's grant and the path groups."""

    received: Received
    region: str
    base: str
    grant: Grant
    groups: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        """The JSON object of the request, or a 400."""
        try:
            document = self.received.json()
        except ValueError:
            raise nova_error(400, "Malformed request body") from None
        if not isinstance(document, dict):
            raise nova_error(400, "Malformed request body")
        return document


class ComputeActions:
    """Nova's part of :class:`~txcloud.testing.openstack.FakeOpenStack`."""

    clock: Any
    users: dict[str, FakeUser]
    projects: dict[str, str]
    servers: dict[str, FakeServer]
    flavors: dict[str, FakeFlavor]
    images: dict[str, FakeImage]
    key_pairs: dict[str, FakeKeyPair]
    zones: dict[str, bool]
    volumes: dict[str, FakeVolume]
    max_limit: int
    boot_seconds: float
    instance_quota: int

    def _new_host(self) -> int:
        raise NotImplementedError

    def _server(self, call: NovaCall) -> FakeServer:
        found = self.servers.get(call.groups[0])
        if found is None or found.region != call.region:
            raise nova_error(404, f"Instance {call.groups[0]} could not be found.")
        found.refresh(self.clock.seconds())
        return found

    def _servers_detail(self, call: NovaCall) -> Reply:
        now = self.clock.seconds()
        listed = [s for s in self.servers.values() if s.region == call.region]
        for server in listed:
            server.refresh(now)
        chosen, next_query = page(
            call.received,
            listed,
            lambda s: s.id,
            default_limit=self.max_limit,
            max_limit=self.max_limit,
        )
        document: dict[str, Any] = {"servers": [self._server_json(s, call) for s in chosen]}
        if next_query is not None:
            href = f"{call.base}/servers/detail?{next_query}"
            document["servers_links"] = [{"rel": "next", "href": href}]
        return json_answer(document)

    def _get_server(self, call: NovaCall) -> Reply:
        return json_answer({"server": self._server_json(self._server(call), call)})

    def _server_json(self, server: FakeServer, call: NovaCall) -> dict[str, Any]:
        document = server.to_json(call.base)
        document["os-extended-volumes:volumes_attached"] = [
            {"id": volume.id} for volume in self.volumes.values() if volume.server_id == server.id
        ]
        return document

    def _delete_server(self, call: NovaCall) -> Reply:
        del self.servers[self._server(call).id]
        return json_answer(None, 204)

    def _create_server(self, call: NovaCall) -> Reply:
        spec = call.body().get("server")
        if not isinstance(spec, dict):
            raise nova_error(400, "Invalid input for field/attribute server.")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise nova_error(400, "Invalid input for field/attribute name.")
        flavor = spec.get("flavorRef")
        if flavor not in self.flavors:
            raise nova_error(400, f"Flavor {flavor} could not be found.")
        image = spec.get("imageRef")
        if image not in self.images or self.images[image].status != "active":
            raise nova_error(400, "Can not find requested image")
        key_name = spec.get("key_name")
        if key_name is not None and key_name not in self.key_pairs:
            raise nova_error(400, "Invalid key_name provided.")
        zone = spec.get("availability_zone", "nova")
        if not self.zones.get(zone):
            raise nova_error(400, "The requested availability zone is not available")
        user_data = spec.get("user_data")
        if user_data is not None:
            try:
                base64.b64decode(user_data, validate=True)
            except (binascii.Error, TypeError):
                raise nova_error(400, "User data needs to be valid base 64.") from None
        used = sum(1 for s in self.servers.values() if s.project_id == call.grant.project)
        if used >= self.instance_quota:
            raise nova_error(
                403,
                f"Quota exceeded for instances: Requested 1, but already used {used} of "
                f"{self.instance_quota} instances",
            )
        server = self.add_server(
            name,
            region=call.region,
            flavor=flavor,
            image=image,
            status="BUILD",
            project=call.grant.project,
            user=call.grant.user,
            zone=zone,
            key_name=key_name,
            metadata=spec.get("metadata") or {},
            floating=False,
        )
        server.active_at = self.clock.seconds() + self.boot_seconds
        server.user_data = user_data
        groups = spec.get("security_groups")
        if isinstance(groups, list):
            server.security_groups = [str(g.get("name")) for g in groups if isinstance(g, dict)]
        links = [{"rel": "self", "href": f"{call.base}/servers/{server.id}"}]
        password = spec.get("adminPass") or "kJTmMkszoB6A"
        created = {
            "id": server.id,
            "links": links,
            "adminPass": password,
            "OS-DCF:diskConfig": spec.get("OS-DCF:diskConfig", "AUTO"),
            "security_groups": [{"name": name} for name in server.security_groups],
        }
        return json_answer({"server": created}, 202)

    def _server_action(self, call: NovaCall) -> Reply:
        server = self._server(call)
        body = call.body()
        if len(body) != 1:
            raise nova_error(400, "There is not exactly one action in the request body.")
        [action] = body
        allowed = {"reboot": ("ACTIVE",), "os-start": ("SHUTOFF",), "os-stop": ("ACTIVE",)}
        if action not in allowed:
            raise nova_error(400, f"There is no such action: {action}")
        if action == "reboot":
            kind = (body["reboot"] or {}).get("type") if isinstance(body["reboot"], dict) else None
            if kind not in ("SOFT", "HARD"):
                raise nova_error(400, "Invalid input for field/attribute type.")
        if server.status not in allowed[action]:
            state = {"SHUTOFF": "stopped", "BUILD": "building"}.get(server.status, "active")
            raise nova_error(
                409,
                f"Cannot '{action.removeprefix('os-')}' instance {server.id} while it is in "
                f"vm_state {state}",
            )
        server.status = "SHUTOFF" if action == "os-stop" else "ACTIVE"
        return json_answer(None, 202)

    def _flavors_detail(self, call: NovaCall) -> Reply:
        chosen, next_query = page(
            call.received,
            list(self.flavors.values()),
            lambda f: f.id,
            default_limit=self.max_limit,
            max_limit=self.max_limit,
        )
        document: dict[str, Any] = {"flavors": [f.to_json(call.base) for f in chosen]}
        if next_query is not None:
            href = f"{call.base}/flavors/detail?{next_query}"
            document["flavors_links"] = [{"rel": "next", "href": href}]
        return json_answer(document)

    def _availability_zones(self, call: NovaCall) -> Reply:
        zones = [
            {"zoneName": name, "zoneState": {"available": available}, "hosts": None}
            for name, available in self.zones.items()
        ]
        return json_answer({"availabilityZoneInfo": zones})

    def _list_key_pairs(self, call: NovaCall) -> Reply:
        owned = [k for k in self.key_pairs.values() if k.user_id == call.grant.user]
        return json_answer({"keypairs": [{"keypair": k.to_json(detail=False)} for k in owned]})

    def _key_pair(self, call: NovaCall) -> FakeKeyPair:
        found = self.key_pairs.get(call.groups[0])
        if found is None or found.user_id != call.grant.user:
            raise nova_error(404, f"Keypair {call.groups[0]} not found for user {call.grant.user}")
        return found

    def _get_key_pair(self, call: NovaCall) -> Reply:
        return json_answer({"keypair": self._key_pair(call).to_json()})

    def _delete_key_pair(self, call: NovaCall) -> Reply:
        del self.key_pairs[self._key_pair(call).name]
        return json_answer(None, 202)

    def _create_key_pair(self, call: NovaCall) -> Reply:
        spec = call.body().get("keypair")
        if not isinstance(spec, dict):
            raise nova_error(400, "Invalid input for field/attribute keypair.")
        name = spec.get("name")
        if not isinstance(name, str) or not _KEY_NAME.match(name):
            raise nova_error(
                400, "Keypair data is invalid: Keypair name contains unsafe characters"
            )
        if name in self.key_pairs:
            raise nova_error(409, f"Key pair '{name}' already exists.")
        private_key = None
        public_key = spec.get("public_key")
        if public_key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private_key = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode("ascii")
            openssh = key.public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            )
            public_key = f"{openssh.decode('ascii')} Generated-by-Nova"
        try:
            key_fingerprint = fingerprint(str(public_key))
        except ValueError:
            raise nova_error(
                400, "Keypair data is invalid: failed to generate fingerprint"
            ) from None
        pair = FakeKeyPair(
            name, str(public_key), key_fingerprint, call.grant.user, self.clock.seconds()
        )
        self.key_pairs[name] = pair
        document = pair.to_json()
        if private_key is not None:
            document["private_key"] = private_key
        return json_answer({"keypair": document})

    def add_server(
        self,
        name: str,
        *,
        region: str = "RegionOne",
        flavor: str = "2",
        image: str | None = None,
        status: str = "ACTIVE",
        project: str | None = None,
        user: str | None = None,
        zone: str = "nova",
        key_name: str | None = None,
        metadata: dict[str, str] | None = None,
        floating: bool = True,
    ) -> FakeServer:
        """
        Add a server (with a fixed address, and a floating one unless told
        not to) in *region*, of known *flavor* and *image* (the first image
        by default), owned by the first user and project by default.
        """
        if flavor not in self.flavors or (image is not None and image not in self.images):
            raise ValueError("add the server's flavor and image first")
        user_name = user or next(iter(self.users))
        project_name = project or self.users[user_name].projects[0]
        host = self._new_host()
        server = FakeServer(
            id=str(uuid.uuid4()),
            name=name,
            region=region,
            flavor=flavor,
            image=image or next(iter(self.images)),
            status=status,
            project_id=project_name,
            user_id=user_name,
            created=self.clock.seconds(),
            zone=zone,
            key_name=key_name,
            metadata=dict(metadata or {}),
            fixed_ip=f"10.0.{host // 250}.{host % 250 + 2}",
            floating_ip=f"203.0.{113 + host // 250}.{host % 250 + 2}" if floating else None,
        )
        self.servers[server.id] = server
        return server
