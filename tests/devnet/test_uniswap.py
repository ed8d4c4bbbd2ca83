from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devnet.anvil import Devnet, Tx
from devnet.uniswap import (
    ERC20,
    V2_PAIR,
    V2_ROUTER,
    V3_POOL,
    V3_POSITION_MANAGER,
    V3_QUOTER,
    V3_ROUTER,
    UniswapV2,
    UniswapV3,
    add_v3_position,
    create_v2_pair,
    create_v3_pool,
    mint,
)
from intents.types import UINT256_MAX, Address, TokenAddress, to_address
from settlement.deployment import Deployment
from tests.settlement.gpv2 import balance

Q96 = 2**96
DEADLINE = 2**32 - 1


def fund_deployer(node: Devnet, devnet: Deployment, *tokens: TokenAddress) -> Address:
    for token in tokens:
        mint(node, token, devnet.deployer.address, 10**27)
    return devnet.deployer.address


def test_v2_pair_has_the_given_reserves_and_swaps_at_the_router_quote(
    chain_state: Devnet, devnet: Deployment, uniswap_v2: UniswapV2
) -> None:
    tka, tkb = devnet.tokens["TKA"], devnet.tokens["TKB"]
    fund_deployer(chain_state, devnet, tka, tkb)
    pair = create_v2_pair(chain_state, uniswap_v2, tka, tkb, 10**21, 3 * 10**21)
    reserve0, reserve1, _ = chain_state.call(V2_PAIR, pair, "getReserves")
    (token0,) = chain_state.call(V2_PAIR, pair, "token0")
    expected = (10**21, 3 * 10**21) if to_address(token0) == tka else (3 * 10**21, 10**21)
    assert (reserve0, reserve1) == expected

    trader = devnet.accounts[0].address
    amount_in = 5 * 10**18
    (quoted,) = chain_state.call(V2_ROUTER, uniswap_v2.router, "getAmountOut", amount_in,
                                 10**21, 3 * 10**21)  # fmt: skip
    before = balance(chain_state, tkb, trader)
    swap = V2_ROUTER.encode_call(
        "swapExactTokensForTokens", amount_in, 0, [tka, tkb], trader, DEADLINE
    )
    chain_state.send(
        [
            Tx(trader, ERC20.encode_call("approve", uniswap_v2.router, UINT256_MAX), tka),
            Tx(trader, swap, uniswap_v2.router, what="v2 swap"),
        ]
    )
    assert balance(chain_state, tkb, trader) - before == quoted > 0


@settings(max_examples=20, deadline=None)
@given(
    amount_in=st.integers(1, 10**30),
    reserve_in=st.integers(1, 2**112 - 1),
    reserve_out=st.integers(1, 2**112 - 1),
)
def test_v2_router_quote_is_the_constant_product_formula(
    devnet_node: Devnet, uniswap_v2: UniswapV2, amount_in: int, reserve_in: int, reserve_out: int
) -> None:
    (quoted,) = devnet_node.call(
        V2_ROUTER, uniswap_v2.router, "getAmountOut", amount_in, reserve_in, reserve_out
    )
    with_fee = amount_in * 997
    assert quoted == with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def test_v3_pool_is_initialised_and_positions_are_its_liquidity(
    chain_state: Devnet, devnet: Deployment, uniswap_v3: UniswapV3
) -> None:
    tka, tkc = devnet.tokens["TKA"], devnet.tokens["TKC"]
    provider = fund_deployer(chain_state, devnet, tka, tkc)
    pool = create_v3_pool(chain_state, uniswap_v3, tka, tkc, 3000, Q96)
    sqrt_price, tick, *_ = chain_state.call(V3_POOL, pool, "slot0")
    assert (sqrt_price, tick) == (Q96, 0)

    wide = add_v3_position(chain_state, uniswap_v3, tka, tkc, 3000, -600, 600, 10**21, 10**21)
    narrow = add_v3_position(chain_state, uniswap_v3, tkc, tka, 3000, -60, 120, 10**20, 10**20)
    assert wide.token_id != narrow.token_id
    assert 0 < wide.amount0 <= 10**21 and 0 < wide.amount1 <= 10**21
    (in_range,) = chain_state.call(V3_POOL, pool, "liquidity")
    assert in_range == wide.liquidity + narrow.liquidity
    (owner,) = chain_state.call(
        V3_POSITION_MANAGER, uniswap_v3.position_manager, "ownerOf", narrow.token_id
    )
    assert to_address(owner) == provider
    _, liquidity_net, *_ = chain_state.call(V3_POOL, pool, "ticks", 120)
    assert liquidity_net == -narrow.liquidity


def test_v3_swap_pays_the_quoter_amount(
    chain_state: Devnet, devnet: Deployment, uniswap_v3: UniswapV3
) -> None:
    tka, tkb = devnet.tokens["TKA"], devnet.tokens["TKB"]
    fund_deployer(chain_state, devnet, tka, tkb)
    create_v3_pool(chain_state, uniswap_v3, tka, tkb, 500, Q96 * 3 // 2)
    add_v3_position(chain_state, uniswap_v3, tka, tkb, 500, -20_000, 20_000, 10**21, 10**21)
    amount_in = 10**19
    amount_out, sqrt_after, ticks_crossed, _ = chain_state.call(
        V3_QUOTER, uniswap_v3.quoter, "quoteExactInputSingle", (tka, tkb, amount_in, 500, 0)
    )
    assert amount_out > 0 and ticks_crossed >= 0 and sqrt_after > 0

    trader = devnet.accounts[1].address
    before = balance(chain_state, tkb, trader)
    swap = V3_ROUTER.encode_call(
        "exactInputSingle", (tka, tkb, 500, trader, DEADLINE, amount_in, 0, 0)
    )
    chain_state.send(
        [
            Tx(trader, ERC20.encode_call("approve", uniswap_v3.router, UINT256_MAX), tka),
            Tx(trader, swap, uniswap_v3.router, what="v3 swap"),
        ]
    )
    assert balance(chain_state, tkb, trader) - before == amount_out
