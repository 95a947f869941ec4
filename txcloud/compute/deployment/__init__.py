"""
Deployment over SSH, with Libcloud's names, on twisted.conch (no threads).

A deployment is a step (:class:`ScriptDeployment`, :class:`FileDeployment`,
:class:`SSHKeyDeployment`) or several in order (:class:`MultiStepDeployment`).
:func:`run_deployment` runs one on an existing node;
``NodeDriver.deploy_node`` creates a node and runs one on it;
:func:`txcloud.multi.run_deployments` runs one on many nodes at once.
"""

from txcloud.compute.deployment.hostkeys import HostKeyPolicy, fingerprint
from txcloud.compute.deployment.run import run_deployment
from txcloud.compute.deployment.steps import (
    Deployment,
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    SSHKeyDeployment,
)

__all__ = [
    "Deployment",
    "FileDeployment",
    "HostKeyPolicy",
    "MultiStepDeployment",
    "SSHKeyDeployment",
    "ScriptDeployment",
    "fingerprint",
    "run_deployment",
]
