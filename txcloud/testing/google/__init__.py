"""
Fakes of Google's identity endpoints, for trial tests of code that finds
Google credentials.

* :class:`FakeMetadataServer`: the metadata server of GCE, GKE and Cloud
  Run (point ``GCE_METADATA_HOST`` at it);
* :class:`FakeGoogleTokenEndpoint`: the OAuth2 token endpoint, for service
  account keys (put its URL in the key's ``token_uri``) and
  ``authorized_user`` refresh tokens.

In memory, through an agent (``fake.agent()``), or on a real port::

    fake = FakeMetadataServer()
    port = reactor.listenTCP(0, fake.site(), interface="127.0.0.1")
    environ = {"GCE_METADATA_HOST": f"127.0.0.1:{port.getHost().port}"}

Each keeps the requests it received in ``received`` and the tokens it
issued in ``tokens`` (``tokens.is_valid(token)``; ``tokens.lifetime`` sets
how long new ones last).
"""

from txcloud.testing.google.metadata import FakeMetadataServer
from txcloud.testing.google.oauth import FakeGoogleTokenEndpoint, TokenGrant

__all__ = ["FakeGoogleTokenEndpoint", "FakeMetadataServer", "TokenGrant"]
