"""Uniswap V2 and V3 on the devnet, from their npm builds, for bit-exact pool-math tests.

The periphery contracts from npm hard-code the pool init code hashes of the canonical
builds, and the core builds in npm are those builds, so routers, the quoter and the
position manager work against pools our factories create.

Liquidity providers must hold the tokens they add: use ``mint`` for the test tokens of
``deploy_gpv2`` (the deployer is their minter) and ``wrap_eth`` for WETH.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from devnet.anvil import Devnet, Tx
from devnet.artifacts import (
    OPENZEPPELIN,
    UNISWAP_V2_CORE,
    UNISWAP_V2_PERIPHERY,
    UNISWAP_V3_CORE,
    UNISWAP_V3_PERIPHERY,
    load_artifact,
)
from devnet.errors import DevnetError
from intents.types import UINT256_MAX, ZERO_ADDRESS, Address, TokenAddress, to_address

_DEADLINE = 2**32 - 1
_POOL_GAS = 6_000_000  # createPair / createPool deploy a contract
# IncreaseLiquidity(uint256 indexed tokenId, uint128 liquidity, uint256 amount0, uint256 amount1)
_INCREASE_LIQUIDITY = "0x3067048beee31b25b2f1681f88dac838c8bba36af25bfb2b7cf7473a5847e35f"

ERC20 = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
WETH9 = load_artifact(UNISWAP_V2_PERIPHERY, "WETH9")
V2_FACTORY = load_artifact(UNISWAP_V2_CORE, "UniswapV2Factory")
V2_PAIR = load_artifact(UNISWAP_V2_CORE, "UniswapV2Pair")
V2_ROUTER = load_artifact(UNISWAP_V2_PERIPHERY, "UniswapV2Router02")
V3_FACTORY = load_artifact(UNISWAP_V3_CORE, "UniswapV3Factory")
V3_POOL = load_artifact(UNISWAP_V3_CORE, "UniswapV3Pool")
V3_POSITION_MANAGER = load_artifact(UNISWAP_V3_PERIPHERY, "NonfungiblePositionManager")
V3_QUOTER = load_artifact(UNISWAP_V3_PERIPHERY, "QuoterV2")
V3_ROUTER = load_artifact(UNISWAP_V3_PERIPHERY, "SwapRouter")


@dataclass(frozen=True, slots=True)
class UniswapV2:
    factory: Address
    router: Address
    """``UniswapV2Router02``: ``getAmountOut``/``getAmountIn`` and swaps."""


@dataclass(frozen=True, slots=True)
class UniswapV3:
    factory: Address
    """Fee tiers enabled: 500 (tick spacing 10), 3000 (60), 10000 (200)."""
    position_manager: Address
    """``NonfungiblePositionManager`` (no token descriptor: ``tokenURI`` is unusable)."""
    quoter: Address
    """``QuoterV2``: ``quoteExactInputSingle`` etc. through ``eth_call``."""
    router: Address
    """``SwapRouter``: ``exactInputSingle`` etc."""


@dataclass(frozen=True, slots=True)
class V3Position:
    token_id: int
    liquidity: int
    amount0: int
    amount1: int


def mint(devnet: Devnet, token: TokenAddress, to: Address, amount: int) -> None:
    """Mint a ``deploy_gpv2`` test token (the deployer is the minter)."""
    devnet.send([Tx(devnet.accounts[0].address, ERC20.encode_call("mint", to, amount), token)])


def wrap_eth(devnet: Devnet, weth: TokenAddress, account: Address, amount: int) -> None:
    """Deposit ``amount`` of ``account``'s ether into WETH9."""
    devnet.send([Tx(account, WETH9.encode_call("deposit"), weth, value=amount)])


def deploy_uniswap_v2(devnet: Devnet, weth: TokenAddress) -> UniswapV2:
    deployer = devnet.accounts[0].address
    [factory] = devnet.deploy_many([(V2_FACTORY, (deployer,))])
    [router] = devnet.deploy_many([(V2_ROUTER, (factory, weth))])
    return UniswapV2(factory=factory, router=router)


def deploy_uniswap_v3(devnet: Devnet, weth: TokenAddress) -> UniswapV3:
    [factory] = devnet.deploy_many([(V3_FACTORY, ())])
    manager, quoter, router = devnet.deploy_many(
        [
            (V3_POSITION_MANAGER, (factory, weth, ZERO_ADDRESS)),
            (V3_QUOTER, (factory, weth)),
            (V3_ROUTER, (factory, weth)),
        ]
    )
    return UniswapV3(factory=factory, position_manager=manager, quoter=quoter, router=router)


def create_v2_pair(
    devnet: Devnet,
    v2: UniswapV2,
    token_a: TokenAddress,
    token_b: TokenAddress,
    amount_a: int,
    amount_b: int,
    provider: Address | None = None,
) -> Address:
    """Create the pair and make its reserves exactly ``amount_a``/``amount_b`` (sent from
    ``provider``, default the deployer, who gets the LP tokens); return the pair address."""
    provider = provider or devnet.accounts[0].address
    create = V2_FACTORY.encode_call("createPair", token_a, token_b)
    devnet.send([Tx(provider, create, v2.factory, gas=_POOL_GAS, what="createPair")])
    (pair,) = devnet.call(V2_FACTORY, v2.factory, "getPair", token_a, token_b)
    pair = to_address(pair)
    devnet.send(v2_liquidity_txs(provider, pair, token_a, amount_a, token_b, amount_b))
    return pair


def age_v2_pairs(devnet: Devnet, pairs: Sequence[Address], sender: Address) -> None:
    """Give fresh pairs the price accumulators a pair that has traded holds: a second
    later, ``sync`` each. A fresh pair's accumulators are zero, and its first swap in a
    later second writes both from zero (two fresh storage slots, ~44k gas) — a cost no
    live pair pays, which would make every first swap on the devnet look expensive."""
    if not pairs:
        return
    devnet.rpc("evm_increaseTime", 1)
    devnet.send([Tx(sender, V2_PAIR.encode_call("sync"), p, what="sync") for p in pairs])


def v2_liquidity_txs(
    provider: Address,
    pair: Address,
    token_a: TokenAddress,
    amount_a: int,
    token_b: TokenAddress,
    amount_b: int,
) -> list[Tx]:
    """Pay both amounts into ``pair``, then ``mint`` (LP tokens to ``provider``): the
    reserves grow by exactly those amounts."""
    return [
        Tx(provider, ERC20.encode_call("transfer", pair, amount_a), token_a),
        Tx(provider, ERC20.encode_call("transfer", pair, amount_b), token_b),
        Tx(provider, V2_PAIR.encode_call("mint", provider), pair, what="pair mint"),
    ]


def create_v3_pool(
    devnet: Devnet,
    v3: UniswapV3,
    token_a: TokenAddress,
    token_b: TokenAddress,
    fee: int,
    sqrt_price_x96: int,
) -> Address:
    """Create the pool for an enabled ``fee`` tier and initialise it at ``sqrt_price_x96``
    (price of token1 in token0, tokens sorted by address); return the pool address."""
    deployer = devnet.accounts[0].address
    create = V3_FACTORY.encode_call("createPool", token_a, token_b, fee)
    devnet.send([Tx(deployer, create, v3.factory, gas=_POOL_GAS, what="createPool")])
    (pool,) = devnet.call(V3_FACTORY, v3.factory, "getPool", token_a, token_b, fee)
    pool = to_address(pool)
    devnet.send([Tx(deployer, V3_POOL.encode_call("initialize", sqrt_price_x96), pool)])
    return pool


def add_v3_position(
    devnet: Devnet,
    v3: UniswapV3,
    token_a: TokenAddress,
    token_b: TokenAddress,
    fee: int,
    tick_lower: int,
    tick_upper: int,
    amount_a: int,
    amount_b: int,
    provider: Address | None = None,
) -> V3Position:
    """Mint a position through the position manager with at most ``amount_a``/``amount_b``
    (from ``provider``, default the deployer, who owns the NFT). The manager computes the
    liquidity for the pool's current price; the returned amounts are what it took, in
    sorted-token order (token0 = the lower address)."""
    provider = provider or devnet.accounts[0].address
    if int(token_a, 16) > int(token_b, 16):
        token_a, token_b, amount_a, amount_b = token_b, token_a, amount_b, amount_a
    params = (
        token_a, token_b, fee, tick_lower, tick_upper, amount_a, amount_b, 0, 0, provider,
        _DEADLINE,
    )  # fmt: skip
    manager = v3.position_manager
    [*_, receipt] = devnet.send(
        [
            Tx(provider, ERC20.encode_call("approve", manager, UINT256_MAX), token_a),
            Tx(provider, ERC20.encode_call("approve", manager, UINT256_MAX), token_b),
            Tx(provider, V3_POSITION_MANAGER.encode_call("mint", params), manager, what="mint"),
        ]
    )
    for log in receipt["logs"]:
        if log["topics"][0] == _INCREASE_LIQUIDITY:
            data = bytes.fromhex(log["data"][2:])
            liquidity, amount0, amount1 = (
                int.from_bytes(data[i : i + 32], "big") for i in (0, 32, 64)
            )
            return V3Position(int(log["topics"][1], 16), liquidity, amount0, amount1)
    raise DevnetError("position manager mint emitted no IncreaseLiquidity")
