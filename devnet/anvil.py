"""A local chain: one anvil process and the calls that drive it.

``Devnet`` owns one anvil process (started on a free port, stopped with its whole process
group, also at interpreter exit) and talks to it over raw batched JSON-RPC (and web3, for
convenience): calls, transactions from its unlocked accounts, contract deployments,
snapshots. ``devnet.gpv2.deploy_gpv2`` puts the GPv2 contracts on it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt, Wei

from devnet.artifacts import Artifact, node_modules_dir
from devnet.errors import DevnetError
from intents.types import Address, to_address
from settlement.deployment import Account

logger = logging.getLogger(__name__)

_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")
_PR_SET_PDEATHSIG = 1
DEPLOY_GAS = 10_000_000
_STALL_TIMEOUT = 30.0
_MAX_BATCH = 1000


def anvil_binary() -> Path:
    """The native anvil binary from ``@foundry-rs/anvil-<platform>``, else the npm wrapper.

    The native binary is preferred: one process to stop, no node start-up cost.
    """
    modules = node_modules_dir()
    native = sorted(modules.glob("@foundry-rs/anvil-*/bin/anvil"))
    return native[0] if native else modules / ".bin" / "anvil"


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def cs(address: str) -> Any:
    """Checksummed form of an address, as web3 wants it."""
    return Web3.to_checksum_address(address)


@dataclass
class Devnet:
    """One anvil process and a web3 connection to it. Use as a context manager."""

    port: int = 0
    """0 = let anvil pick a free port."""
    host: str = "127.0.0.1"
    chain_id: int = 31337
    startup_timeout: float = 15.0
    account_count: int = 10
    """Unlocked, funded accounts anvil makes (its default: 10)."""
    accounts: tuple[Account, ...] = ()
    rpc_url: str = ""
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    _w3: Web3 | None = field(default=None, repr=False)
    _http: http.client.HTTPConnection | None = field(default=None, repr=False)
    _http_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- process lifecycle ------------------------------------------------------------------

    def start(self) -> Self:
        if self._proc is not None:
            raise DevnetError("devnet already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="tributary-anvil-")
        tmp = Path(self._tmp.name)
        log_path, config_path = tmp / "anvil.log", tmp / "config.json"
        cmd = [
            str(anvil_binary()),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.account_count),
            "--config-out", str(config_path),
        ]  # fmt: skip
        on_main = threading.current_thread() is threading.main_thread()
        with log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() kills all of it
                # Die with us even on SIGKILL; only from the main thread, because the death
                # signal fires when the spawning *thread* exits.
                preexec_fn=_die_with_parent if on_main and sys.platform == "linux" else None,
            )
        atexit.register(self.stop)
        try:
            self._wait_ready(log_path, config_path)
        except BaseException:
            self.stop()
            raise
        logger.info("anvil %d listening at %s", self._proc.pid, self.rpc_url)
        return self

    def _wait_ready(self, log_path: Path, config_path: Path) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            text = log_path.read_text(errors="replace")
            match = _LISTENING.search(text)
            if match and config_path.is_file():
                break
            if self._proc.poll() is not None:
                raise DevnetError(f"anvil exited with {self._proc.returncode}: {text[-2000:]}")
            if time.monotonic() > deadline:
                raise DevnetError(f"anvil not listening after {self.startup_timeout}s")
            time.sleep(0.02)
        self.port = int(match.group(2))
        self.rpc_url = f"http://{self.host}:{self.port}"
        config = json.loads(config_path.read_text())
        self.accounts = tuple(
            Account(to_address(a), k)
            for a, k in zip(config["available_accounts"], config["private_keys"], strict=True)
        )
        self._w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))
        answered = self._w3.eth.chain_id
        if answered != self.chain_id:
            raise DevnetError(f"anvil answers chain id {answered}, expected {self.chain_id}")

    def stop(self) -> None:
        """Terminate anvil's process group, kill it if it lingers; idempotent."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            logger.info("anvil %d stopped", proc.pid)
        self._w3 = None
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            raise DevnetError("devnet not started")
        return self._w3

    # -- chain helpers ----------------------------------------------------------------------

    def rpc(self, method: str, *params: Any) -> Any:
        """One raw JSON-RPC call (``anvil_*``, ``evm_*``, ...); ``DevnetError`` on error."""
        return self.rpc_batch([(method, params)])[0]

    def rpc_batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several JSON-RPC calls in one HTTP request, results in order.

        Raw HTTP rather than web3: web3's per-request middleware costs milliseconds, and a
        deployment sends hundreds of requests.
        """
        if len(calls) > _MAX_BATCH:  # anvil refuses very large requests
            return [
                result
                for start in range(0, len(calls), _MAX_BATCH)
                for result in self.rpc_batch(calls[start : start + _MAX_BATCH])
            ]
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        body = self._post(json.dumps(payload).encode())
        if not isinstance(body, list):  # the whole batch was refused
            raise DevnetError(f"{calls[0][0]}... batch refused: {body}")
        replies = {r["id"]: r for r in body}
        results = []
        for i, (method, _) in enumerate(calls):
            reply = replies[i]
            if "error" in reply:
                raise DevnetError(f"{method} failed: {reply['error']}")
            results.append(reply["result"])
        return results

    def _post(self, data: bytes) -> Any:
        """POST over one kept-alive connection (a new one per request costs ~5 ms here)."""
        with self._http_lock:
            for attempt in (1, 2):
                if self._http is None:
                    self._http = http.client.HTTPConnection(self.host, self.port, timeout=60)
                try:
                    self._http.request(
                        "POST", "/", body=data, headers={"Content-Type": "application/json"}
                    )
                    return json.loads(self._http.getresponse().read())
                except (OSError, http.client.HTTPException):
                    self._http.close()
                    self._http = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def snapshot(self) -> str:
        """``evm_snapshot``: an id to ``revert`` to (each id can be reverted to once)."""
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if self.rpc("evm_revert", snapshot_id) is not True:
            raise DevnetError(f"evm_revert({snapshot_id}) refused")

    def contract(self, artifact: Artifact, address: str) -> Contract:
        """A web3 contract object, for convenient reads and single transactions."""
        contract: Contract = self.w3.eth.contract(address=cs(address), abi=list(artifact.abi))
        return contract

    def call(self, artifact: Artifact, address: str, fn: str, *args: Any) -> tuple[Any, ...]:
        """``eth_call`` of ``fn(*args)`` on ``address`` at the latest block, decoded."""
        return self.call_many([(artifact, address, fn, args)])[0]

    def call_many(
        self, calls: Sequence[tuple[Artifact, str, str, Sequence[Any]]]
    ) -> list[tuple[Any, ...]]:
        """Several ``call``s (artifact, address, function, arguments) in one request."""
        results = self.rpc_batch(
            [
                ("eth_call", ({"to": to, "data": _hex(art.encode_call(fn, *args))}, "latest"))
                for art, to, fn, args in calls
            ]
        )
        return [
            art.decode_result(fn, bytes.fromhex(data[2:]))
            for (art, _, fn, _), data in zip(calls, results, strict=True)
        ]

    def send(self, txs: Sequence[Tx]) -> list[dict[str, Any]]:
        """Send transactions from unlocked accounts, in order per sender, in one batch; wait
        for all receipts; raise ``DevnetError`` if any reverted."""
        senders = list(dict.fromkeys(tx.sender for tx in txs))
        counts = self.rpc_batch([("eth_getTransactionCount", (s, "pending")) for s in senders])
        nonces = {s: int(n, 16) for s, n in zip(senders, counts, strict=True)}
        requests = []
        for tx in txs:
            body = {
                "from": tx.sender,
                "data": _hex(tx.data),
                "value": hex(tx.value),
                "gas": hex(tx.gas),
                "nonce": hex(nonces[tx.sender]),
            }
            if tx.to is not None:
                body["to"] = tx.to
            nonces[tx.sender] += 1
            requests.append(("eth_sendTransaction", (body,)))
        # Batch entries reach anvil's pool concurrently; with automine on, one arriving
        # while its predecessor is being mined can be parked as "queued" for good (seen with
        # anvil 1.7). So: pool everything with automine off, then mine blocks until done.
        automine = self.rpc("anvil_getAutomine")
        self.rpc("evm_setAutomine", False)
        try:
            hashes = self.rpc_batch(requests)
            receipts = self._mine_until_receipts(hashes)
        finally:
            self.rpc("evm_setAutomine", automine)
        for tx, receipt in zip(txs, receipts, strict=True):
            if int(receipt["status"], 16) != 1:
                raise DevnetError(f"{tx.what} reverted (tx {receipt['transactionHash']})")
        return receipts

    def _mine_until_receipts(self, hashes: Sequence[str]) -> list[dict[str, Any]]:
        receipts: dict[str, dict[str, Any]] = {}
        base_fee = self.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"]
        deadline = time.monotonic() + _STALL_TIMEOUT
        while len(receipts) < len(hashes):
            if time.monotonic() > deadline:
                pool = self.rpc("txpool_inspect")
                raise DevnetError(
                    f"{len(hashes) - len(receipts)} not mined, no progress for "
                    f"{_STALL_TIMEOUT}s: {pool}"
                )
            # Full blocks raise the base fee 12.5% each; pooled transactions priced at the
            # old one would be dropped, so every block keeps the base fee we started at.
            self.rpc("anvil_setNextBlockBaseFeePerGas", base_fee)
            self.rpc("evm_mine")  # a block takes as many pooled transactions as fit
            missing = [h for h in hashes if h not in receipts]
            found = self.rpc_batch([("eth_getTransactionReceipt", (h,)) for h in missing])
            new = {h: r for h, r in zip(missing, found, strict=True) if r is not None}
            if new:
                receipts.update(new)
                deadline = time.monotonic() + _STALL_TIMEOUT
        return [receipts[h] for h in hashes]

    def deploy_many(self, contracts: Sequence[tuple[Artifact, Sequence[Any]]]) -> list[Address]:
        """Deploy several independent contracts from account 0 in one batch; their
        addresses in order."""
        txs = [
            Tx(self._deployer, art.encode_deploy(*args), gas=DEPLOY_GAS, what=art.name)
            for art, args in contracts
        ]
        return [to_address(r["contractAddress"]) for r in self.send(txs)]

    def transact(self, call: ContractFunction, sender: Address, value: int = 0) -> TxReceipt:
        """Send one web3 contract call from an unlocked account; wait for its successful
        receipt."""
        tx = call.transact(TxParams({"from": cs(sender), "value": Wei(value)}))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=30)
        if receipt["status"] != 1:
            raise DevnetError(f"{call.fn_name} reverted (tx 0x{bytes(tx).hex()})")
        return receipt

    @property
    def _deployer(self) -> Address:
        if not self.accounts:
            raise DevnetError("devnet not started")
        return self.accounts[0].address


@dataclass(frozen=True, slots=True)
class Tx:
    """A transaction for ``Devnet.send``; ``to=None`` creates a contract."""

    sender: Address
    data: bytes
    to: str | None = None
    value: int = 0
    gas: int = 1_000_000
    what: str = "transaction"
    """Named in the error if it reverts."""


def _hex(data: bytes) -> str:
    return "0x" + data.hex()
