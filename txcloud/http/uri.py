"""
Request URLs in the URI form they are sent in (IDNA host, percent-encoded
path and query), converted once per URL rather than on every request.

treq parses each URL and converts it to URI form, IDNA-encoding the host,
which costs more than building and signing an API call; a driver sends
to the same few URLs over and over.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

from hyperlink import EncodedURL

__all__ = ["prepared_url"]


class _PreparedURL(EncodedURL):
    """
    A URL already in URI form: converting it again changes nothing, and its
    text is kept (treq asks for it on every request).
    """

    _text: str | None = None

    def to_uri(self) -> _PreparedURL:
        return self

    def to_text(self, with_password: bool = False) -> str:
        if with_password:
            return super().to_text(with_password)
        text = self._text
        if text is None:
            text = self._text = super().to_text()
        return text


def _prepare(url: str) -> _PreparedURL:
    uri = EncodedURL.from_text(url).to_uri().to_text()
    return cast(_PreparedURL, _PreparedURL.from_text(uri))


# Only URLs without a query are kept: they repeat (an API endpoint, an
# object), and a query may hold a secret (a presigned signature, a SAS
# token) that must not outlive its request in a cache.
_prepare_cached = lru_cache(maxsize=256)(_prepare)


def prepared_url(url: str) -> EncodedURL:
    """
    *url* in URI form, for treq or an Agent.

    :param url: an absolute URL, as :class:`~txcloud.http.Request` holds it.
    :returns: the URL; its ``to_uri()`` is itself.
    """
    if "?" in url or "#" in url:
        return _prepare(url)
    return _prepare_cached(url)
