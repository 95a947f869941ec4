"""
Amazon Elastic Container Service (ECS): clusters, and containers run as
ECS tasks, spoken to with ECS's JSON protocol (``POST /`` with an
``X-Amz-Target`` header naming the operation).

How ECS maps onto the container API, as in Libcloud's ECS driver:

* A :class:`~txcloud.container.base.Container` is one container of a task;
  its ``id`` is the container's ARN, and ``extra`` holds the task's ARN
  (``taskArn``), its task definition's (``taskDefinitionArn``), its
  cluster's (``clusterArn``) and the task's other fields named in
  :data:`~txcloud.container.drivers.ecs.parse.TASK_EXTRA`.
* ``deploy_container`` registers a task definition (family *name*, one
  container running the image) and, when *start*, runs one task of it.
* Stopping, destroying or restarting a container acts on its whole task.
  ECS cannot start a stopped task again: ``start_container`` runs a *new*
  task of the container's task definition, so the container it fires with
  has a new id.
* Images are not kept by ECS but pulled from a registry when a task starts:
  ``install_image`` only names one and ``list_images`` is not supported.

Every ``List*`` call follows ``nextToken`` to the last page; ``List*`` and
``Describe*`` calls are retried on throttling and server errors, the others
are not (running a task twice would start two).

The package's modules:

* :mod:`~txcloud.container.drivers.ecs.driver`: ElasticContainerDriver: clusters and tasks'
  containers;
* :mod:`~txcloud.container.drivers.ecs.parse`: ECS documents as txcloud models.
"""

from txcloud.container.drivers.ecs.driver import ElasticContainerDriver

__all__ = ["ElasticContainerDriver"]
