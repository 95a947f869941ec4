"""
Kubernetes: namespaces as clusters and the containers of pods as
containers, spoken to with the API server's REST API (``/api/v1``).

How Kubernetes maps onto the container API, as in Libcloud's driver:

* A :class:`~txcloud.container.base.ContainerCluster` is a namespace; its
  ``id`` and ``name`` are the namespace's name.
* A :class:`~txcloud.container.base.Container` is one container of a pod
  (see :mod:`~txcloud.container.drivers.kubernetes.parse` for its ``id``,
  state and ``extra``); :meth:`KubernetesContainerDriver.ex_list_pods`
  gives the pods themselves.
* ``deploy_container`` creates a pod of one container; destroying a
  container deletes its whole pod.  A pod cannot be stopped, started or
  restarted: those methods raise :class:`NotImplementedError`.
* Images live in registries, not in the cluster: ``install_image`` only
  names one, and ``list_images`` gives the images the pods use.

Every list follows ``continue`` tokens to the last page (``limit`` is
``ex_page_size``, 500 by default).  Authentication, kubeconfig files,
in-cluster configuration and the typed errors the API server's ``Status``
objects become are :mod:`~txcloud.container.drivers.kubernetes.client`'s.

The package's modules:

* :mod:`~txcloud.container.drivers.kubernetes.driver`: KubernetesContainerDriver: namespaces as
  clusters, pods' containers;
* :mod:`~txcloud.container.drivers.kubernetes.client`: the API server's REST client:
  authentication, paging, Status errors;
* :mod:`~txcloud.container.drivers.kubernetes.config`: kubeconfig files, merged;
* :mod:`~txcloud.container.drivers.kubernetes.credentials`: credentials that
  change (the source contract, token files read again as they rotate);
* :mod:`~txcloud.container.drivers.kubernetes.exec_plugin`: exec credential plugins;
* :mod:`~txcloud.container.drivers.kubernetes.in_cluster`: a pod's service account;
* :mod:`~txcloud.container.drivers.kubernetes.parse`: API objects as txcloud models.
"""

from txcloud.container.drivers.kubernetes.driver import KubernetesContainerDriver, KubernetesPod

__all__ = ["KubernetesContainerDriver", "KubernetesPod"]
