"""Fetching a URL a client gave (an agent card, an audio file) the way push notifications
reach theirs: the address checked before each request and after each redirect (private,
loopback and link-local hosts refused unless allowed), a size limit read as the body
streams, and every way it can fail said in words."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx

from server.api.push import url_problem

REDIRECTS = 3


class FetchRefused(Exception):
    """``str(error)`` says why; ``address``: the URL itself was refused (the client's
    mistake, 400), not what it answered."""

    def __init__(self, reason: str, address: bool = False) -> None:
        super().__init__(reason)
        self.address = address


async def fetch_checked(
    url: str, http: httpx.AsyncClient, allow_private: bool, max_bytes: int
) -> bytes:
    """The body of ``url`` (status 200, at most ``max_bytes``), redirects followed and checked."""
    for _ in range(REDIRECTS + 1):
        if (why := await url_problem(url, allow_private)) is not None:
            raise FetchRefused(why, address=True)
        try:
            async with http.stream("GET", url, follow_redirects=False) as response:
                if response.is_redirect and "location" in response.headers:
                    try:
                        url = urljoin(url, response.headers["location"])
                    except ValueError as error:
                        raise FetchRefused(f"a redirect to a bad URL ({error})") from error
                    continue
                if response.status_code != 200:
                    raise FetchRefused(f"{url} answered {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise FetchRefused(f"it is larger than {max_bytes} bytes")
                return bytes(data)
        except httpx.TimeoutException as error:
            raise FetchRefused(f"{url} did not answer in time") from error
        except httpx.HTTPError as error:
            raise FetchRefused(f"{url} could not be fetched ({error})") from error
    raise FetchRefused(f"more than {REDIRECTS} redirects")
