"""
Setting up moto server with IAM authentication enforced: users, roles,
policies and instances created in its unauthenticated window (across
account ids with ``x-moto-account-id``), then authentication turned on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import treq
from lxml import etree

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.sigv4 import sha256_hex, sign_headers
from txcloud.http import findall_local, findtext_local, parse_xml

#: The account moto serves unless told otherwise.
HOME_ACCOUNT = "123456789012"

_ADMIN = AWSCredentials("AKIDMOTOADMIN", "moto-admin-secret")
_VERSIONS = {"iam": "2010-05-08", "ec2": "2016-11-15", "sts": "2011-06-15"}


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def deny(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resource}


TRUST_HOME_ACCOUNT = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
)

#: What a role may do: read EC2 and list S3 buckets (moto authorises
#: ListBuckets as s3:ListBuckets).
READER = policy(allow(["ec2:Describe*", "s3:ListBuckets", "s3:ListAllMyBuckets"]))


class MotoIAM:
    """Set-up calls to one moto server."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _post(self, path: str, body: bytes, content_type: str = "text/plain") -> bytes:
        headers: dict[Any, Any] = {"Content-Type": content_type}
        response = await treq.post(self.url + path, data=body, headers=headers, persistent=False)
        return await response.content()

    async def reset(self) -> None:
        """Forget everything, and open the unauthenticated window."""
        await self._post("/moto-api/reset", b"")
        await self.unauthenticated("inf")

    async def unauthenticated(self, actions: str) -> None:
        """Let the next *actions* actions through unauthenticated (``"0"``: none)."""
        await self._post("/moto-api/reset-auth", actions.encode())

    async def call(
        self,
        service: str,
        params: Mapping[str, str],
        account: str | None = None,
        region: str = "us-east-1",
    ) -> etree._Element:
        body = urlencode({**params, "Version": _VERSIONS[service]}).encode()
        headers: dict[Any, Any] = {"Content-Type": "application/x-www-form-urlencoded"}
        if account is not None:
            headers["x-moto-account-id"] = account
        url = self.url + "/"
        headers.update(
            sign_headers(
                "POST", url, headers, sha256_hex(body), _ADMIN, region, service, time.time()
            )
        )
        response = await treq.post(url, data=body, headers=headers, persistent=False)
        content = await response.content()
        if response.code != 200:
            raise AssertionError(f"moto refused {params.get('Action')}: {content[:300]!r}")
        return parse_xml(content)

    async def user(self, name: str, user_policy: str) -> AWSCredentials:
        """A user of the home account with *user_policy*, and an access key of it."""
        await self.call("iam", {"Action": "CreateUser", "UserName": name})
        await self.call(
            "iam",
            {
                "Action": "PutUserPolicy",
                "UserName": name,
                "PolicyName": "only",
                "PolicyDocument": user_policy,
            },
        )
        return await self.access_key(name)

    async def access_key(self, user: str) -> AWSCredentials:
        root = await self.call("iam", {"Action": "CreateAccessKey", "UserName": user})
        return AWSCredentials(
            findtext_local(root, "CreateAccessKeyResult/AccessKey/AccessKeyId") or "",
            findtext_local(root, "CreateAccessKeyResult/AccessKey/SecretAccessKey") or "",
        )

    async def delete_access_key(self, user: str, key: str) -> None:
        await self.call("iam", {"Action": "DeleteAccessKey", "UserName": user, "AccessKeyId": key})

    async def role(self, account: str, name: str = "reader", role_policy: str = READER) -> str:
        """A role of *account* trusting the home account, with *role_policy*; its ARN."""
        await self.call(
            "iam",
            {
                "Action": "CreateRole",
                "RoleName": name,
                "AssumeRolePolicyDocument": TRUST_HOME_ACCOUNT,
            },
            account,
        )
        await self.call(
            "iam",
            {
                "Action": "PutRolePolicy",
                "RoleName": name,
                "PolicyName": "only",
                "PolicyDocument": role_policy,
            },
            account,
        )
        return f"arn:aws:iam::{account}:role/{name}"

    async def instances(self, account: str, count: int, region: str = "us-east-1") -> list[str]:
        """Run *count* instances in *account*'s *region*; their ids."""
        root = await self.call(
            "ec2",
            {
                "Action": "RunInstances",
                "ImageId": "ami-12c6146b",
                "MinCount": str(count),
                "MaxCount": str(count),
            },
            account,
            region,
        )
        return [
            findtext_local(item, "instanceId") or ""
            for item in findall_local(root, "instancesSet/item")
        ]

    async def assumed_roles(self) -> list[str]:
        """The role ARN of every session STS issued."""
        response = await treq.get(self.url + "/moto-api/data.json", persistent=False)
        data = await response.json()
        return [entry["role_arn"] for entry in data.get("sts", {}).get("AssumedRole", [])]
