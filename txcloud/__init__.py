"""
txcloud: a multi-cloud client library for Twisted.

One API, modelled on Apache Libcloud's, for compute nodes, object storage and
containers across providers, where every network call returns a
:class:`~twisted.internet.defer.Deferred`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
