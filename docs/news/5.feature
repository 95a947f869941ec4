Storage drivers for Azure Blobs (Shared Key and SAS, parallel blocks) and
Google Cloud Storage (service-account tokens, resumable and parallel
composite uploads, HMAC keys through the XML API), the DigitalOcean compute
driver, and streamed copies between storage targets: ``txcloud.storage.copy``
and ``txcloud cp`` to one or more destinations, with ``--recursive`` for
every object under a prefix.
