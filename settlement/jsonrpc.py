"""An async JSON-RPC client that coalesces concurrent calls into batch requests.

Thousands of orders a second each need a few ``eth_call``s. One HTTP request per call (or
web3's per-call middleware) would dominate the work, so calls made within ``window``
seconds of each other go out as ONE JSON-RPC batch over one aiohttp session; identical
calls in the same window share one entry and one answer. Each caller awaits a single
future for all its calls (no task per call): the Python side stays cheap next to the node.

With a ``Breaker`` (``settlement.breaker``) the client fails fast while the node is down:
``probe`` (``ChainGuard.watching`` calls it every fraction of a second) sends a lone
``eth_blockNumber`` with a short timeout from a thread of its own; once one fails (or real
calls fail to reach the node) every call is refused at once with ``ChainDownError``, and
the calls already waiting are failed too, until a probe is answered again. Each change is
logged once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self, cast

import aiohttp
import msgspec

from settlement import multicall
from settlement.breaker import Breaker, BreakerState, Transition
from settlement.errors import SettlementError
from settlement.probe import probe_once, probe_thread

logger = logging.getLogger(__name__)


class ChainReadError(SettlementError, ConnectionError):
    """The node did not answer (transport failure, HTTP error, malformed reply)."""

    code = "ChainUnavailable"


class ChainDownError(ChainReadError):
    """Refused without asking: the breaker is open (the node stopped answering)."""

    already_reported = True
    """The outage was logged once when the breaker opened; a refusal is not news."""


class RpcError(msgspec.Struct, frozen=True):
    """The ``error`` member of a JSON-RPC reply: the node answered, the call failed."""

    code: int
    message: str
    data: Any = None

    @property
    def is_revert(self) -> bool:
        """The EVM executed the call and it reverted (EIP-1474 code 3, or a geth-style
        "execution reverted" message)."""
        return self.code == 3 or "revert" in self.message.lower()


class RpcReply(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: int | None  # null when the node refuses the whole request
    jsonrpc: str = "2.0"
    result: Any = None
    error: RpcError | None = None


_REPLIES = msgspec.json.Decoder(list[RpcReply])
_REPLY = msgspec.json.Decoder(RpcReply)
_ENCODER = msgspec.json.Encoder()


class _Waiter:
    """One caller's calls: its future resolves when every reply has arrived."""

    __slots__ = ("future", "missing", "replies")

    def __init__(self, future: asyncio.Future[list[RpcReply]], size: int) -> None:
        self.future = future
        self.replies: list[RpcReply | None] = [None] * size
        self.missing = size

    def fill(self, index: int, reply: RpcReply) -> None:
        if self.future.done():  # the caller was cancelled, or another entry failed
            return
        self.replies[index] = reply
        self.missing -= 1
        if self.missing == 0:
            self.future.set_result(cast(list[RpcReply], self.replies))

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


Waiting = list[tuple[_Waiter, int]]
"""Every (caller, position in its call list) awaiting one call's reply."""

_REVERTED = RpcError(code=3, message="execution reverted (inside multicall)")


def _deliver(waiting: Waiting, reply: RpcReply) -> None:
    for waiter, index in waiting:
        waiter.fill(index, reply)


def _fail(waiting: Waiting, exc: BaseException) -> None:
    for waiter, _ in waiting:
        waiter.fail(exc)


class BatchingRpcClient:
    """JSON-RPC over HTTP; concurrent requests within ``window`` seconds share one batch.

    With a ``multicall`` address (``UniswapInterfaceMulticall``), plain ``eth_call``s at
    ``latest`` (``to`` and ``data`` only, no gas) are packed into multicalls inside that
    batch; their replies look the same, except that a revert carries no revert data.
    Create and use the client inside a running event loop; ``close()`` (or ``async with``)
    ends its session.
    """

    def __init__(
        self,
        url: str,
        *,
        window: float = 0.005,
        max_batch: int = 1000,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        multicall: str | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.url = url
        self.breaker = breaker
        self.window = window
        self.max_batch = max_batch
        self.multicall = multicall
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None
        # encoded '"method":…,"params":…' fragment -> who awaits it
        self._pending: dict[bytes, Waiting] = {}
        # (to, data) of packable eth_calls -> who awaits it
        self._reads: dict[tuple[str, str], Waiting] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._waiters: set[_Waiter] = set()
        self._probe_thread: ThreadPoolExecutor | None = None
        self.batches_sent = 0
        self.calls_sent = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Send what is pending, wait for in-flight batches, close the session."""
        self._flush()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None
        if self._probe_thread is not None:  # a probe in flight ends by its own timeout
            self._probe_thread.shutdown(wait=False, cancel_futures=True)
            self._probe_thread = None

    def _packable(self, method: str, params: list[Any]) -> tuple[str, str] | None:
        if self.multicall is None or method != "eth_call" or len(params) != 2:
            return None
        call, block = params
        if block != "latest" or not isinstance(call, dict) or call.keys() != {"to", "data"}:
            return None
        return str(call["to"]), str(call["data"])

    async def request_many(self, calls: Sequence[tuple[str, list[Any]]]) -> list[RpcReply]:
        """The node's replies to several calls, in order (``reply.error`` set where a call
        failed); raises ``ChainReadError`` if the node could not be reached."""
        if not calls:
            return []
        if self.breaker is not None and not self.breaker.allows():
            raise ChainDownError(f"{self.url} is not answering: {self.breaker.reason}")
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), len(calls))
        for index, (method, params) in enumerate(calls):
            read = self._packable(method, params)
            if read is not None:
                waiting = self._reads.setdefault(read, [])
            else:
                key = (
                    b'"method":' + _ENCODER.encode(method) + b',"params":' + _ENCODER.encode(params)
                )
                waiting = self._pending.setdefault(key, [])
            waiting.append((waiter, index))
            if len(waiting) == 1 and len(self._pending) + len(self._reads) >= self.max_batch:
                self._flush()
        if (self._pending or self._reads) and self._flush_handle is None:
            self._flush_handle = loop.call_later(self.window, self._flush)
        self._waiters.add(waiter)
        try:
            return await waiter.future
        finally:
            self._waiters.discard(waiter)

    async def request(self, method: str, params: list[Any]) -> RpcReply:
        """The node's reply to one call; see ``request_many``."""
        [reply] = await self.request_many([(method, params)])
        return reply

    async def call(self, method: str, params: list[Any]) -> Any:
        """The ``result`` of one call; raises ``ChainReadError`` if it failed."""
        reply = await self.request(method, params)
        if reply.error is not None:
            raise ChainReadError(f"{method} failed: {reply.error.message} ({reply.error.code})")
        return reply.result

    async def logs(
        self, address: str, topic: bytes, first: int, last: int, max_range: int = 2000
    ) -> list[dict[str, Any]]:
        """The logs of ``address`` with first topic ``topic`` in blocks ``first``..``last``,
        in chain order, read ``max_range`` blocks per ``eth_getLogs`` request (nodes cap a
        request's range or its reply)."""
        found: list[dict[str, Any]] = []
        for start in range(first, last + 1, max_range):
            query = {
                "fromBlock": hex(start),
                "toBlock": hex(min(start + max_range - 1, last)),
                "address": address,
                "topics": ["0x" + topic.hex()],
            }
            found += await self.call("eth_getLogs", [query])
        return found

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending and not self._reads:
            return
        batch, self._pending = self._pending, {}
        reads, self._reads = self._reads, {}
        task = asyncio.get_running_loop().create_task(self._send(batch, reads))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _send(
        self, batch: dict[bytes, Waiting], reads: dict[tuple[str, str], Waiting]
    ) -> None:
        plain = list(batch.values())
        items = list(reads.items())
        chunks = [
            items[i : i + multicall.MAX_CALLS] for i in range(0, len(items), multicall.MAX_CALLS)
        ]
        fragments = list(batch)
        for chunk in chunks:
            data = multicall.encode([(to, bytes.fromhex(d[2:])) for (to, d), _ in chunk])
            call = [{"to": self.multicall, "data": "0x" + data.hex()}, "latest"]
            fragments.append(b'"method":"eth_call","params":' + _ENCODER.encode(call))
        body = (
            b"["
            + b",".join(b'{"jsonrpc":"2.0","id":%d,%b}' % (i, f) for i, f in enumerate(fragments))
            + b"]"
        )
        started = self.breaker.clock() if self.breaker is not None else 0.0
        try:
            replies = await self._post(body)
        except ChainReadError as exc:
            for waiting in [*plain, *reads.values()]:
                _fail(waiting, exc)
            if self.breaker is not None:
                self._observe(self.breaker.failed(started, str(exc)))
            return
        if self.breaker is not None:
            self.breaker.succeeded(started)
        self.batches_sent += 1
        self.calls_sent += len(plain) + len(items)
        by_id = {r.id: r for r in replies if r.id is not None}
        for i, waiting in enumerate(plain):
            reply = by_id.get(i)
            if reply is None:
                _fail(waiting, ChainReadError(f"no reply to batch entry {i}"))
            else:
                _deliver(waiting, reply)
        for j, chunk in enumerate(chunks):
            self._unpack(chunk, by_id.get(len(plain) + j))

    @staticmethod
    def _unpack(chunk: Sequence[tuple[tuple[str, str], Waiting]], reply: RpcReply | None) -> None:
        """Hand each packed call its own reply from the multicall's."""
        if reply is None or reply.error is not None:
            for _, waiting in chunk:
                if reply is None:
                    _fail(waiting, ChainReadError("no reply to a multicall"))
                else:
                    _deliver(waiting, RpcReply(id=None, error=reply.error))
            return
        try:
            results = multicall.decode(bytes.fromhex(str(reply.result)[2:]))
            if len(results) != len(chunk):
                raise ValueError(f"{len(results)} results for {len(chunk)} calls")
        except ValueError as exc:
            for _, waiting in chunk:
                _fail(waiting, ChainReadError(f"malformed multicall result: {exc}"))
            return
        for (ok, data), (_, waiting) in zip(results, chunk, strict=True):
            answer = (
                RpcReply(id=None, result="0x" + data.hex())
                if ok
                else RpcReply(None, error=_REVERTED)
            )
            _deliver(waiting, answer)

    def raise_if_down(self) -> None:
        """Raise ``ChainDownError`` while the breaker is open (no I/O: a health check)."""
        if self.breaker is not None and self.breaker.state is not BreakerState.CLOSED:
            raise ChainDownError(f"{self.url} is not answering: {self.breaker.reason}")

    async def probe(self) -> None:
        """Ask the node for its block number alone, within the breaker's ``slow_seconds``,
        in the probe's own thread (``settlement.probe``), and tell the breaker how it went
        (nothing while the breaker waits out its cooldown)."""
        breaker = self.breaker
        if breaker is None or not breaker.may_probe():
            return
        if self._probe_thread is None:
            self._probe_thread = probe_thread()
        result = await asyncio.get_running_loop().run_in_executor(
            self._probe_thread, probe_once, self.url, breaker.slow_seconds, breaker.clock
        )
        self._observe(breaker.probed(result.started, result.ended, result.error))

    def _observe(self, transition: Transition | None) -> None:
        if transition is None:
            return
        if transition.after is BreakerState.OPEN:
            logger.warning(
                "chain node %s is down (%s): calls fail fast until it answers",
                self.url,
                transition.reason,
            )
            down = ChainDownError(f"{self.url} is not answering: {transition.reason}")
            for waiter in list(self._waiters):
                waiter.fail(down)
        elif transition.after is BreakerState.CLOSED:
            logger.warning("chain node %s is back: %s", self.url, transition.reason)

    async def _post(self, body: bytes) -> list[RpcReply]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    raise ChainReadError(f"{self.url} answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChainReadError(f"{self.url} unreachable: {str(exc) or repr(exc)}") from exc
        try:
            return _REPLIES.decode(raw)
        except msgspec.ValidationError:
            # a node may answer a whole batch with a single error object
            try:
                single = _REPLY.decode(raw)
            except msgspec.DecodeError as exc:
                raise ChainReadError(f"malformed JSON-RPC reply: {raw[:200]!r}") from exc
            error = single.error.message if single.error else "no error given"
            raise ChainReadError(f"{self.url} refused the batch: {error}") from None
        except msgspec.DecodeError as exc:
            raise ChainReadError(f"malformed JSON-RPC reply: {raw[:200]!r}") from exc
