"""How many eip712-signed orders one core authenticates per second.

Each recovery is the whole intake work for the signature: EIP-712 hash of the order
(``order_digest``) and ECDSA public-key recovery to the owner address (``recover_signer``).
Orders are distinct and signed by distinct random keys. Timings are per batch, in wall-clock
and in this thread's CPU time (what one dedicated core would do, even on a busy machine); the
report gives the median and the slowest 1% batch as recoveries/s, p50/p99 per-batch
latency, and the same for eth_account (typed-data hashing + recovery) as a baseline.

    python -m bench.signatures [--batch-size 500] [--batches 40] [--baseline-batches 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from intents.eip712 import domain_separator, order_digest
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import address_of, recover_signer, sign
from intents.types import Address, TokenAddress

CHAIN_ID = 1
SETTLEMENT = Address("0x9008d19f58aabd9ed0d60971565aa8510560ab41")


def _orders(n: int, rng: random.Random) -> list[Order]:
    return [
        Order(
            sell_token=TokenAddress("0x" + rng.randbytes(20).hex()),
            buy_token=TokenAddress("0x" + rng.randbytes(20).hex()),
            receiver=Address("0x" + rng.randbytes(20).hex()),
            sell_amount=rng.randrange(1, 10**30),
            buy_amount=rng.randrange(1, 10**30),
            valid_to=rng.randrange(2**32),
            app_data=rng.randbytes(32),
            fee_amount=0,
            kind=rng.choice(list(OrderKind)),
            partially_fillable=rng.random() < 0.5,
        )
        for _ in range(n)
    ]


def _typed_data(order: Order) -> dict[str, Any]:
    fields = [
        ("sellToken", "address"),
        ("buyToken", "address"),
        ("receiver", "address"),
        ("sellAmount", "uint256"),
        ("buyAmount", "uint256"),
        ("validTo", "uint32"),
        ("appData", "bytes32"),
        ("feeAmount", "uint256"),
        ("kind", "string"),
        ("partiallyFillable", "bool"),
        ("sellTokenBalance", "string"),
        ("buyTokenBalance", "string"),
    ]
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": name, "type": kind} for name, kind in fields],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Gnosis Protocol",
            "version": "v2",
            "chainId": CHAIN_ID,
            "verifyingContract": SETTLEMENT,
        },
        "message": {
            "sellToken": order.sell_token,
            "buyToken": order.buy_token,
            "receiver": order.receiver,
            "sellAmount": order.sell_amount,
            "buyAmount": order.buy_amount,
            "validTo": order.valid_to,
            "appData": order.app_data,
            "feeAmount": order.fee_amount,
            "kind": order.kind.value,
            "partiallyFillable": order.partially_fillable,
            "sellTokenBalance": order.sell_token_balance.value,
            "buyTokenBalance": order.buy_token_balance.value,
        },
    }


def _time_batches(
    batches: int, batch_size: int, run_one: Callable[[int], None]
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per batch; ``run_one(i)`` authenticates signed order i."""
    wall, cpu = [], []
    for b in range(batches):
        start, start_cpu = time.perf_counter(), time.thread_time()
        for i in range(b * batch_size, (b + 1) * batch_size):
            run_one(i)
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def _report(name: str, timings: tuple[list[float], list[float]], batch_size: int) -> float:
    """Print wall-clock and CPU-time rates; return the median per CPU-second."""
    wall, cpu = timings
    medians = []
    for clock, seconds in (("wall", wall), ("cpu", cpu)):
        rates = sorted(batch_size / s for s in seconds)
        slowest = rates[max(0, len(rates) // 100 - 1)]
        ordered = sorted(seconds)
        p50_ms = statistics.median(seconds) * 1e3
        p99_ms = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] * 1e3
        medians.append(statistics.median(rates))
        print(
            f"{name:<36}{clock:>5}: median {medians[-1]:>8,.0f}/s  slowest-1% batch "
            f"{slowest:>8,.0f}/s  batch p50 {p50_ms:6.1f} ms p99 {p99_ms:6.1f} ms  "
            f"({len(seconds)} x {batch_size})"
        )
    return medians[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench signatures", description=__doc__)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--baseline-batches", type=int, default=3)
    parser.add_argument("--keys", type=int, default=64, help="distinct signing keys")
    parser.add_argument("--seed", type=int, default=7400681)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    separator = domain_separator(CHAIN_ID, SETTLEMENT)
    keys = [rng.randbytes(32) for _ in range(args.keys)]
    n = args.batches * args.batch_size
    orders = _orders(n, rng)
    signed = []
    for i, order in enumerate(orders):
        key = keys[i % len(keys)]
        signed.append((order, sign(SigningScheme.EIP712, order_digest(separator, order), key)))
    owners = [address_of(key) for key in keys]

    def ours(i: int) -> None:
        order, signature = signed[i]
        owner = recover_signer(SigningScheme.EIP712, order_digest(separator, order), signature)
        if owner != owners[i % len(owners)]:
            raise AssertionError(f"recovered {owner} for order {i}")

    print(f"eip712 signature recovery, one core, {os.cpu_count()} CPUs visible")
    rate = _report(
        "tributary (hash + recover)",
        _time_batches(args.batches, args.batch_size, ours),
        args.batch_size,
    )

    if args.baseline_batches > 0:
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        baseline_size = max(1, args.batch_size // 10)
        typed = [_typed_data(order) for order, _ in signed[: args.baseline_batches * baseline_size]]

        def theirs(i: int) -> None:
            message = encode_typed_data(full_message=typed[i])
            owner = Account.recover_message(message, signature=signed[i][1])
            if owner.lower() != owners[i % len(owners)]:
                raise AssertionError(f"eth_account recovered {owner} for order {i}")

        baseline = _report(
            "eth_account (typed data + recover)",
            _time_batches(args.baseline_batches, baseline_size, theirs),
            baseline_size,
        )
        print(f"speed-up over eth_account (CPU time): {rate / baseline:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
