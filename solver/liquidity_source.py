"""Where an auction's liquidity comes from: a ``LiquiditySource`` gives the pools as
solver-engine DTOs (the form external solvers receive; ``solver.model.auction_from_dto``
turns them into routing's immutable ``Snapshot``).

Adapters: ``FileLiquidity`` (the ``liquidity`` of a solver-engine auction file) and
``ChainLiquidity`` (Uniswap V2 pairs and V3 pools read from a chain in one batched
JSON-RPC round: ``getReserves``; ``slot0``, ``liquidity`` and ``ticks(t).liquidityNet`` of
the known initialized ticks) of ``settlement.chain_pools.ChainPool``s, e.g. the
``PoolList`` of a deployment file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_abi.abi import decode, encode

from routing.interaction_gas import UNISWAP_V2_GAS, UNISWAP_V3_GAS
from settlement.chain_pools import ChainPool
from settlement.interactions import PoolKind
from settlement.jsonrpc import BatchingRpcClient, ChainReadError
from solver import dto

GET_RESERVES = bytes.fromhex("0902f1ac")
SLOT0 = bytes.fromhex("3850c7bd")
LIQUIDITY = bytes.fromhex("1a686502")
TICKS = bytes.fromhex("f30dba93")


class LiquiditySource(Protocol):
    async def liquidity(self) -> list[dto.Liquidity]:
        """The current pools, as the solver-engine auction carries them."""
        ...


@dataclass(frozen=True, slots=True)
class FileLiquidity:
    """The pools of a solver-engine auction document (read once, served as they are)."""

    pools: tuple[dto.Liquidity, ...]

    @classmethod
    def load(cls, path: str | Path) -> FileLiquidity:
        return cls(tuple(dto.decode_auction(Path(path).read_bytes()).liquidity))

    async def liquidity(self) -> list[dto.Liquidity]:
        return list(self.pools)


def _call(to: str, data: bytes) -> tuple[str, list[Any]]:
    return "eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]


def _fee(fee_millionths: int) -> str:
    return str(fee_millionths / 1_000_000) if fee_millionths else "0"


@dataclass(frozen=True, slots=True)
class ChainLiquidity:
    """Reads ``pools`` from the chain behind ``rpc``, all in one batch."""

    rpc: BatchingRpcClient
    pools: tuple[ChainPool, ...]

    def by_id(self) -> dict[str, ChainPool]:
        return {pool.address: pool for pool in self.pools}

    def _calls(self) -> list[tuple[str, list[Any]]]:
        calls = []
        for pool in self.pools:
            if pool.kind is PoolKind.UNISWAP_V2:
                calls.append(_call(pool.address, GET_RESERVES))
            else:
                calls.append(_call(pool.address, SLOT0))
                calls.append(_call(pool.address, LIQUIDITY))
                calls.extend(
                    _call(pool.address, TICKS + encode(["int24"], [t])) for t in pool.ticks
                )
        return calls

    async def liquidity(self) -> list[dto.Liquidity]:
        replies = iter(await self.rpc.request_many(self._calls()))

        def word(types: Sequence[str]) -> tuple[Any, ...]:
            reply = next(replies)
            if reply.error is not None:
                raise ChainReadError(f"pool read failed: {reply.error.message}")
            return tuple(decode(list(types), bytes.fromhex(str(reply.result)[2:])))

        out: list[dto.Liquidity] = []
        for pool in self.pools:
            if pool.kind is PoolKind.UNISWAP_V2:
                r0, r1, _ = word(("uint112", "uint112", "uint32"))
                out.append(
                    dto.ConstantProductPool(
                        id=pool.address,
                        address=pool.address,
                        router=pool.router,
                        gas_estimate=dto.U256(UNISWAP_V2_GAS),
                        tokens={
                            pool.token0: dto.ConstantProductReserve(balance=dto.U256(r0)),
                            pool.token1: dto.ConstantProductReserve(balance=dto.U256(r1)),
                        },
                        fee=_fee(pool.fee),
                    )
                )
                continue
            sqrt_price, tick, *_ = word(
                ("uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool")
            )
            (liquidity,) = word(("uint128",))
            net = {}
            for t in pool.ticks:
                _gross, liquidity_net, *_ = word(
                    (
                        "uint128",
                        "int128",
                        "uint256",
                        "uint256",
                        "int56",
                        "uint160",
                        "uint32",
                        "bool",
                    )
                )
                if liquidity_net:
                    net[str(t)] = str(liquidity_net)
            if sqrt_price == 0:
                continue  # not initialized: nothing to trade against
            out.append(
                dto.ConcentratedLiquidityPool(
                    id=pool.address,
                    address=pool.address,
                    router=pool.router,
                    gas_estimate=dto.U256(UNISWAP_V3_GAS),
                    tokens=[pool.token0, pool.token1],
                    sqrt_price=dto.U256(sqrt_price),
                    liquidity=str(liquidity),
                    tick=tick,
                    liquidity_net=net,
                    fee=_fee(pool.fee),
                )
            )
        return out


def _reserves(pool: dto.Liquidity) -> tuple[str, str, int, int] | None:
    """A two-token pool as (token0, token1, reserve0, reserve1): real reserves of a
    constant-product pool, the virtual reserves at the current price of a V3 pool
    (``L / sqrtP`` and ``L * sqrtP``, in Q96)."""
    if isinstance(pool, dto.ConstantProductPool) and len(pool.tokens) == 2:
        (t0, b0), (t1, b1) = pool.tokens.items()
        return t0, t1, int(b0.balance), int(b1.balance)
    if isinstance(pool, dto.ConcentratedLiquidityPool) and int(pool.sqrt_price) > 0:
        liquidity, sqrt_price = int(pool.liquidity), int(pool.sqrt_price)
        t0, t1 = pool.tokens
        return t0, t1, liquidity * 2**96 // sqrt_price, liquidity * sqrt_price // 2**96
    return None


def native_prices(pools: Iterable[dto.Liquidity], weth: str) -> dict[str, int]:
    """Reference prices (wei per ``10**18`` base units, rounded down) of every token
    connected to ``weth`` by V2/V3 pools: hop by hop outwards from WETH, each new token
    priced by the pool holding the most value of an already priced token."""
    edges = [r for r in map(_reserves, pools) if r is not None and r[2] > 0 and r[3] > 0]
    prices: dict[str, int] = {weth: 10**18}
    while True:
        best: dict[str, tuple[int, int]] = {}  # token -> (depth in wei, price)
        for t0, t1, r0, r1 in edges:
            for known, new, r_known, r_new in ((t0, t1, r0, r1), (t1, t0, r1, r0)):
                if known in prices and new not in prices:
                    depth = r_known * prices[known]
                    if depth > best.get(new, (0, 0))[0]:
                        best[new] = (depth, prices[known] * r_known // r_new)
        if not best:
            return prices
        prices.update((token, price) for token, (_, price) in best.items())
