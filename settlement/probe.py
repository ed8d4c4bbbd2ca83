"""One liveness probe of a JSON-RPC node, timed outside the event loop.

The breaker must not take a busy event loop for a hung node: a probe timed on the loop
that also builds auctions and answers requests reads the loop's lag as the node's. So the
probe runs in a thread of its own (``probe_thread``) over a plain blocking HTTP connection
with a socket timeout, and measures its own start and end; the socket waits release the
GIL, so the loop's work does not delay it.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

_BODY = b'[{"jsonrpc":"2.0","id":0,"method":"eth_blockNumber","params":[]}]'


@dataclass(frozen=True, slots=True)
class ProbeResult:
    started: float
    ended: float
    error: str | None
    """Why the node did not answer; ``None`` if it did."""


def probe_thread() -> ThreadPoolExecutor:
    """The one thread a client's probes run in (one at a time)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-probe")


def probe_once(url: str, timeout: float, clock: Callable[[], float]) -> ProbeResult:
    """``eth_blockNumber`` over a fresh connection; never raises."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = clock()
    error: str | None = None
    connection = kind(parts.hostname or "localhost", parts.port, timeout=timeout)
    try:
        connection.request("POST", path, _BODY, {"Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
        if response.status != 200:
            error = f"{url} answered HTTP {response.status}"
        else:
            [reply] = json.loads(raw)
            if reply.get("error") is not None or "result" not in reply:
                error = f"eth_blockNumber failed: {reply.get('error')}"
    except TimeoutError:
        error = f"no answer within {timeout} s"
    except (OSError, http.client.HTTPException, ValueError, TypeError, AttributeError) as exc:
        error = f"{url} unreachable: {str(exc) or type(exc).__name__}"
    finally:
        connection.close()
    return ProbeResult(started, clock(), error)
