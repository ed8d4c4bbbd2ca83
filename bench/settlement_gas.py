"""Gas per trade: orders settled together in one ``settle()`` vs one settlement each.

On a fresh devnet (anvil + the published GPv2 contracts), ``n`` eip712 orders from the
funded traders, alternately TKA->TKB and TKB->TKA at a 1:1 clearing price, are settled
(a) in one batch and (b) one order per ``settle()``, each from the same chain snapshot.
The settlement contract holds a buffer of both tokens, so no AMM interaction is needed and
the figures are the settlement's own cost: signature recovery, the two transfers, the
``filledAmount`` write and the ``Trade`` event per trade, plus the per-transaction overhead
(21,000 base gas, calldata, authentication) that batching shares.

    python -m bench.settlement_gas [--sizes 1 10 50]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from devnet.anvil import Devnet, Tx
from devnet.artifacts import OPENZEPPELIN, load_artifact
from devnet.gpv2 import deploy_gpv2
from intents.eip712 import order_digest
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import sign
from intents.types import ZERO_ADDRESS, Address, TokenAddress
from settlement.deployment import Account, Deployment
from settlement.encoding import Settlement, Trade, token_indices, trade_for_order

BUFFER = 10**24


def signed_sell(
    devnet: Deployment,
    trader: Account,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    valid_to: int,
    index: Mapping[TokenAddress, int],
) -> Trade:
    """The settlement trade of a fill-or-kill eip712 sell order signed by ``trader``."""
    order = Order(
        sell_token=sell,
        buy_token=buy,
        receiver=ZERO_ADDRESS,
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        valid_to=valid_to,
        app_data=bytes(32),
        fee_amount=0,
        kind=OrderKind.SELL,
        partially_fillable=False,
    )
    digest = order_digest(devnet.domain_separator, order)
    key = bytes.fromhex(trader.private_key.removeprefix("0x"))
    signature = sign(SigningScheme.EIP712, digest, key)
    return trade_for_order(order, index, SigningScheme.EIP712, trader.address, signature)


def _trades(
    node: Devnet, devnet: Deployment, n: int
) -> tuple[tuple[TokenAddress, ...], list[Trade]]:
    a, b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    tokens = (a, b)
    index = token_indices(tokens)
    valid_to = int(node.w3.eth.get_block("latest")["timestamp"]) + 3600
    trades = []
    for i in range(n):
        trader = devnet.accounts[i % len(devnet.accounts)]
        sell, buy = (a, b) if i % 2 == 0 else (b, a)
        trades.append(
            signed_sell(devnet, trader, sell, buy, 10**18 + i, 10**18, valid_to, index)
        )  # distinct sell amounts: distinct orders, distinct UIDs
    return tokens, trades


def _gas(node: Devnet, devnet: Deployment, settlements: Sequence[Settlement]) -> int:
    """Total gas used by the settlements, sent in order from the solver."""
    txs = [
        Tx(devnet.solver.address, s.calldata(), to=devnet.settlement, gas=15_000_000, what="settle")
        for s in settlements
    ]
    return sum(int(r["gasUsed"], 16) for r in node.send(txs))


def measure(node: Devnet, devnet: Deployment, n: int) -> tuple[int, int]:
    """(batched gas, one-by-one gas) for ``n`` orders, both from the current state."""
    tokens, trades = _trades(node, devnet, n)
    prices = (1, 1)
    batched = [Settlement(tokens=tokens, clearing_prices=prices, trades=tuple(trades))]
    single = [Settlement(tokens=tokens, clearing_prices=prices, trades=(t,)) for t in trades]
    results = []
    for plan in (batched, single):
        snapshot = node.snapshot()
        results.append(_gas(node, devnet, plan))
        node.revert(snapshot)
    return results[0], results[1]


def fund_buffer(node: Devnet, devnet: Deployment) -> None:
    """Give the settlement contract both tokens, to pay out the unmatched side."""
    token = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
    node.send(
        [
            Tx(
                devnet.deployer.address,
                token.encode_call("mint", devnet.settlement, BUFFER),
                to=Address(t),
                what="mint buffer",
            )
            for t in (devnet.tokens["TKA"], devnet.tokens["TKB"])
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench settlement_gas", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args(argv)
    with Devnet() as node:
        devnet = deploy_gpv2(node)
        fund_buffer(node, devnet)
        print(
            "| orders | batched gas | gas/trade batched | one-by-one gas "
            "| gas/trade one by one | saving |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for n in args.sizes:
            batched, single = measure(node, devnet, n)
            print(
                f"| {n} | {batched:,} | {batched // n:,} | {single:,} | {single // n:,} "
                f"| {100 * (single - batched) / single:.1f}% |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
