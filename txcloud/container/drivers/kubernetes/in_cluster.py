"""
In-cluster configuration: what a pod needs to reach its own cluster's API
server, found where Kubernetes puts it.

* The server: ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``,
  variables kubelet sets in every container.
* The service account's files, in
  ``/var/run/secrets/kubernetes.io/serviceaccount`` unless told otherwise:
  ``token`` (a projected token kubelet rewrites before it expires),
  ``ca.crt`` (the cluster's CA) and ``namespace`` (the pod's namespace,
  the driver's default one).

The token is read as :class:`~txcloud.container.drivers.kubernetes.credentials.TokenFile`
reads it: again every minute (as client-go does) and at once after a
``401``, so a rotated token is picked up before the old one stops working
and at the latest on the first refusal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from txcloud.container.drivers.kubernetes.config import KubernetesCredentialsError

__all__ = ["SERVICE_ACCOUNT_DIR", "in_cluster_arguments"]

#: Where kubelet mounts a pod's service account files.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def in_cluster_arguments(
    service_account_dir: str = SERVICE_ACCOUNT_DIR, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """
    The driver's keyword arguments inside a pod.

    :param service_account_dir: the folder of ``token``, ``ca.crt`` and ``namespace``.
    :param environ: the environment with ``KUBERNETES_SERVICE_HOST`` and
        ``KUBERNETES_SERVICE_PORT``; ``os.environ`` when ``None``.
    :returns: ``host`` (the server's URL), ``ca_cert``, ``ex_token_file``
        and, when the file exists, ``ex_namespace``.
    :raises KubernetesCredentialsError: when a variable is unset or a file
        (``namespace`` aside) is missing.
    """
    environ = os.environ if environ is None else environ
    host = environ.get("KUBERNETES_SERVICE_HOST")
    port = environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise KubernetesCredentialsError(
            "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
            "must be set",
            source="the environment",
        )
    if not port.isdigit():
        raise KubernetesCredentialsError(
            "is not a port number", source="the environment", key="KUBERNETES_SERVICE_PORT"
        )
    if ":" in host:
        host = f"[{host}]"
    arguments: dict[str, Any] = {"host": f"https://{host}:{port}"}
    for name, argument in (("token", "ex_token_file"), ("ca.crt", "ca_cert")):
        path = os.path.join(service_account_dir, name)
        if not os.path.isfile(path):
            raise KubernetesCredentialsError("does not exist", source=path)
        arguments[argument] = path
    namespace_path = os.path.join(service_account_dir, "namespace")
    try:
        with open(namespace_path, encoding="utf-8") as f:
            namespace = f.read().strip()
    except FileNotFoundError:
        namespace = ""
    except (OSError, UnicodeDecodeError):
        raise KubernetesCredentialsError("cannot be read", source=namespace_path) from None
    if namespace:
        arguments["ex_namespace"] = namespace
    return arguments
