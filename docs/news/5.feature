``txcloud cp`` copies between storage targets, streamed (nothing touches the
disk), to one or more destinations at once, and with ``--recursive`` every
object under a prefix; the library side is ``txcloud.storage.copy``
(``copy_object``, ``copy_prefix``).
