The asynchronous core: the ``txcloud.http`` transport (treq, retries with
backoff, timeouts, verified TLS, hardened XML, redacted logs), the compute,
storage and container base APIs with lazy ``get_driver`` registries, the
embedded ``dummy`` compute and ``local`` storage drivers, fan-out with
``txcloud.multi``, the blocking layer ``txcloud.sync``, and the ``txcloud``
command.
