"""
An in-memory Kubernetes API server for trial tests.

:class:`FakeKubernetes` keeps namespaces and pods in memory and answers the
part of the core ``v1`` API that txcloud's Kubernetes driver speaks, in the
shapes the Kubernetes API reference gives:

* ``GET /version``;
* ``GET`` (list) and ``POST`` ``/api/v1/namespaces``, ``GET`` and ``DELETE``
  ``/api/v1/namespaces/{name}``;
* ``GET /api/v1/pods``: the pods of every namespace;
* ``GET`` (list) and ``POST`` ``/api/v1/namespaces/{namespace}/pods``,
  ``GET`` and ``DELETE`` ``/api/v1/namespaces/{namespace}/pods/{name}``.

Lists are ordered by key (namespace, then name) and honour ``limit`` and
``continue``: a paged list is served from a snapshot taken by its first page,
so later pages are consistent with it, as the API server's are, until
:meth:`FakeKubernetes.expire_continue_tokens` (etcd compaction) makes the
server answer ``410 Gone``.  Every error is a ``Status`` object with the
reason, message and details the API server would give.  Any other query
parameter is refused with ``400``, so a client cannot rely on something the
fake only pretends to do.

Like the API server, creating a pod only records it (phase ``Pending``, no
container statuses); :meth:`FakeKubernetes.set_pod_phase` and
:meth:`FakeKubernetes.set_container_state` play the scheduler and kubelet.
Deleting a pod removes it at once (no grace period); deleting a namespace
answers with it ``Terminating`` and removes it and its pods after
*namespace_termination_delay* seconds on the clock.

Authentication: with neither *tokens* nor *users*, anyone may call.  With
them, a request needs a known bearer token or user name and password, or a
TLS client certificate (whose common name is the user; the TLS server, not
the fake, decides which certificates it accepts), else ``401``.
:meth:`FakeKubernetes.add_token` and :meth:`FakeKubernetes.revoke_token`
rotate tokens while a test runs (whether anonymous calls are served is
decided once, when the fake is made).

In memory, through the driver's agent argument::

    fake = FakeKubernetes(clock=clock)
    driver = KubernetesContainerDriver(
        host="https://kubernetes.test", ex_agent=fake.agent(), reactor=clock
    )

or over a real socket: ``reactor.listenTCP(0, fake.site(), interface="127.0.0.1")``
(or an ``SSL4ServerEndpoint`` for TLS).
"""

from txcloud.testing.kubernetes.fake import DEFAULT_NAMESPACES, FakeKubernetes, SeenRequest

__all__ = ["DEFAULT_NAMESPACES", "FakeKubernetes", "SeenRequest"]
