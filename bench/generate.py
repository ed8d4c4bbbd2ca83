"""``tributary bench generate``: a synthetic auction of N orders over a real snapshot's liquidity.

The output is the snapshot's own (legacy ``tokens``/``orders``/``amms``/``metadata``) file
with every field kept except ``orders``, which are replaced by N generated ones, and a
``metadata.generator`` entry recording the settings. It loads with
``solver.auction_file.load_auction`` and solves with ``tributary solve FILE``.

Deterministic per seed: one ``random.Random(seed)`` drives every draw, tokens are visited in
sorted order and the JSON is written with the input's key order, so one seed gives the same
bytes on every run.

Distributions (defaults in brackets, each one a flag):

* **Liquid priced tokens.** A pool's *depth* is the native value (reference price x reserve)
  of its poorest priced token: Uniswap-V2/Balancer/Curve reserves as listed, Uniswap-V3 what the
  pool holds within 10% of its price (token0 up to 1.1 P, token1 down to P / 1.1, its
  liquidity walked tick by tick). A pool with an
  unpriced token, or a Balancer pool's token whose balance is not priced, does not count.
  Pools of depth ≥ ``--min-depth`` native units [10 ETH] are *deep*; the liquid priced tokens
  are the priced tokens reached from the native token over deep pools (breadth first). Each
  token's weight is the square root of the summed depth of its deep pools.
* **Pairs.** Sell and buy token are two distinct liquid tokens, each drawn with probability
  proportional to its weight (deep tokens — WETH, stables — recur, as on mainnet).
* **Value.** Log-uniform between ``--min-value`` and ``--max-value`` native units
  [0.01 ETH, 100 ETH]: four orders of magnitude.
* **Kind.** Sell with probability ``--sell-share`` [0.8], else buy.
* **Class.** Market with probability ``--market-share`` [0.2]: a signed fee of
  ``gas price x 100,000 gas`` converted into the sell token at reference prices, fill-or-kill.
  Otherwise limit: no fee, partially fillable with probability ``--partial-share`` [0.5].
* **Limit price.** The market estimate is the reference-price ratio (marginal, size-blind —
  a cheap estimate: large orders meet price impact, so some in-the-money orders cannot be
  filled at size, as on mainnet). With probability ``--in-the-money`` [0.3] the order asks
  for less than that (a sell order's buy amount, resp. offers more for a buy order) by a
  margin log-uniform in [0.5%, 5%]; otherwise it asks for more by a margin log-uniform in
  [0.5%, 30%].
* **Facing orders.** With probability ``--facing`` (after the first order) an order faces an
  earlier one drawn uniformly: the opposite direction of its pair, a value 0.5-2x its value
  (log-uniform), and a limit price at most the inverse of the earlier order's (so the two
  limits overlap and a coincidence of wants is possible). On CoW mainnet about 0.2% of
  orders settle as coincidences of wants; the default ``--market normal`` sets
  ``--facing 0.001`` (about 0.2% of orders in a facing pair), ``--market busy`` sets 0.1.
  An explicit ``--facing`` wins over ``--market``.
* **Identity.** Owner: 20 random bytes per order. UID: 32 bytes of SHA-256 over
  ``(seed, index)``, the owner, then ``validTo`` (big-endian u32, ``--valid-to``
  [0xFFFFFFFF, i.e. never expires — the snapshot carries no time of its own]); unique and
  56 bytes long. Signatures are not generated: the solver path does not verify them.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from tqdm import tqdm

DEFAULT_SNAPSHOT = "../shared/data/auctions/mainnet-7400681.json"
FACING = {"normal": 0.001, "busy": 0.1}
GAS_PER_TRADE = 100_000
ITM_MARGIN = (0.005, 0.05)
OTM_MARGIN = (0.005, 0.30)
FACING_VALUE_SPREAD = 2.0
MAX_VALID_TO = 0xFFFFFFFF
Q96 = 2**96
BAND = 1.1  # a V3 pool's depth: what it holds within 10% of its price


@dataclass(frozen=True, slots=True)
class Settings:
    orders: int
    seed: int
    min_value: float = 0.01
    max_value: float = 100.0
    sell_share: float = 0.8
    market_share: float = 0.2
    partial_share: float = 0.5
    in_the_money: float = 0.3
    facing: float = FACING["normal"]
    min_depth: float = 10.0
    valid_to: int = MAX_VALID_TO

    def __post_init__(self) -> None:
        for name in ("sell_share", "market_share", "partial_share", "in_the_money", "facing"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1")
        if not 0 < self.min_value <= self.max_value:
            raise ValueError("values need 0 < min_value <= max_value")
        if self.orders < 0:
            raise ValueError("the order count cannot be negative")
        if not 0 <= self.valid_to <= MAX_VALID_TO:
            raise ValueError("valid_to is a u32 timestamp")


@dataclass(frozen=True, slots=True)
class Token:
    address: str
    price: Fraction  # native wei per base unit
    weight: float


@dataclass(frozen=True, slots=True)
class Drawn:
    """One generated order before encoding: the pair, its native value, and its limit
    rate relative to the reference-price ratio (buy per sell; < 1 asks for less)."""

    sell: Token
    buy: Token
    value: float
    rate: float
    is_sell: bool
    market: bool
    partial: bool


def _price(info: Mapping[str, Any]) -> Fraction | None:
    raw = info.get("external_price")
    if raw is None:
        return None
    price = Fraction(str(raw))
    return price if price > 0 else None


def _pool_reserves(amm: Mapping[str, Any]) -> dict[str, int]:
    """Token → reserve (base units) of a pool; V3 its active range's virtual reserves."""
    kind = amm.get("kind")
    if kind == "Concentrated":
        pool, state = amm["pool"], amm["pool"]["state"]
        sqrt_price, liquidity = int(state["sqrt_price"]), int(state["liquidity"])
        if sqrt_price <= 0:
            return {}
        token0, token1 = (t["id"].lower() for t in pool["tokens"])
        amount0, amount1 = _band_amounts(
            sqrt_price / Q96,
            int(state["tick"]),
            liquidity,
            {int(tick): int(net) for tick, net in (state.get("liquidity_net") or {}).items()},
        )
        return {token0: int(amount0), token1: int(amount1)}
    reserves: dict[str, int] = {}
    for address, entry in (amm.get("reserves") or {}).items():
        balance = entry["balance"] if isinstance(entry, Mapping) else entry
        reserves[address.lower()] = int(Fraction(str(balance)))
    return reserves


def sqrt_at(tick: int) -> float:
    """sqrt(1.0001 ** tick): a V3 tick's square-root price (unscaled)."""
    return float(1.0001 ** (tick / 2))


def _band_amounts(
    sqrt_price: float, tick: int, liquidity: int, nets: Mapping[int, int]
) -> tuple[float, float]:
    """A Uniswap-V3 pool's token0 held between the price and ``BAND`` x it, and token1
    held between the price and its ``1/BAND``: the liquidity walked tick by tick."""
    span = round(math.log(BAND) / math.log(1.0001))
    amount0, active, here = 0.0, liquidity, sqrt_price
    for t in [*sorted(t for t in nets if tick < t <= tick + span), tick + span]:
        amount0 += max(active, 0) * (1 / here - 1 / sqrt_at(t))
        here, active = sqrt_at(t), active + nets.get(t, 0)
    amount1, active, here = 0.0, liquidity, sqrt_price
    for t in [*sorted((t for t in nets if tick - span <= t <= tick), reverse=True), tick - span]:
        amount1 += max(active, 0) * (here - sqrt_at(t))
        here, active = sqrt_at(t), active - nets.get(t, 0)
    return max(amount0, 0.0), max(amount1, 0.0)


def pool_depth(reserves: Mapping[str, int], prices: Mapping[str, Fraction]) -> Fraction:
    """Native value of the poorest token of the pool; 0 if a token has no price."""
    if len(reserves) < 2 or any(token not in prices for token in reserves):
        return Fraction(0)
    return min(prices[token] * amount for token, amount in reserves.items())


def liquid_tokens(doc: Mapping[str, Any], min_depth: float) -> list[Token]:
    """The priced tokens reachable from the native token over pools of depth ≥ ``min_depth``
    native units, sorted by address (see the module docstring)."""
    prices = {
        address.lower(): price
        for address, info in doc["tokens"].items()
        if (price := _price(info)) is not None
    }
    threshold = Fraction(str(min_depth)) * 10**18
    pools: list[tuple[list[str], Fraction]] = []
    for ident in sorted(doc["amms"]):
        try:
            reserves = _pool_reserves(doc["amms"][ident])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue  # a malformed pool is skipped, as the loader does
        depth = pool_depth(reserves, prices)
        if depth >= threshold:
            pools.append((sorted(reserves), depth))
    native = str(doc["metadata"]["native_token"]).lower()
    reached = {native} if native in prices else set()
    frontier = sorted(reached)
    while frontier:
        step = set(frontier)
        new = {t for tokens, _ in pools if step & set(tokens) for t in tokens} - reached
        reached |= new
        frontier = sorted(new)
    depth_of: dict[str, Fraction] = {}
    for tokens, depth in pools:
        for token in tokens:
            if token in reached:
                depth_of[token] = depth_of.get(token, Fraction(0)) + depth
    return [
        Token(address=t, price=prices[t], weight=math.sqrt(float(depth_of[t]) / 1e18))
        for t in sorted(reached)
    ]


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


class _Generator:
    def __init__(self, tokens: Sequence[Token], settings: Settings) -> None:
        if len(tokens) < 2:
            raise ValueError("the snapshot has fewer than two liquid priced tokens")
        self.tokens = list(tokens)
        self.settings = settings
        self.rng = random.Random(settings.seed)
        total = 0.0
        self.cumulative: list[float] = []
        for token in self.tokens:
            total += token.weight
            self.cumulative.append(total)
        self.drawn: list[Drawn] = []

    def _token(self) -> Token:
        point = self.rng.random() * self.cumulative[-1]
        index = bisect.bisect_right(self.cumulative, point)
        return self.tokens[min(index, len(self.tokens) - 1)]

    def _rate(self) -> float:
        if self.rng.random() < self.settings.in_the_money:
            return 1.0 - _log_uniform(self.rng, *ITM_MARGIN)
        return 1.0 + _log_uniform(self.rng, *OTM_MARGIN)

    def _class(self) -> tuple[bool, bool, bool]:
        s, rng = self.settings, self.rng
        is_sell = rng.random() < s.sell_share
        market = rng.random() < s.market_share
        partial = False if market else rng.random() < s.partial_share
        return is_sell, market, partial

    def draw(self) -> Drawn:
        s, rng = self.settings, self.rng
        if self.drawn and rng.random() < s.facing:
            earlier = self.drawn[rng.randrange(len(self.drawn))]
            value = earlier.value * _log_uniform(rng, 1 / FACING_VALUE_SPREAD, FACING_VALUE_SPREAD)
            rate = min(self._rate(), (1.0 / earlier.rate) * (1.0 - ITM_MARGIN[0]))
            is_sell, market, partial = self._class()
            order = Drawn(earlier.buy, earlier.sell, value, rate, is_sell, market, partial)
        else:
            sell = self._token()
            buy = self._token()
            while buy.address == sell.address:
                buy = self._token()
            value = _log_uniform(rng, s.min_value, s.max_value)
            rate = self._rate()
            is_sell, market, partial = self._class()
            order = Drawn(sell, buy, value, rate, is_sell, market, partial)
        self.drawn.append(order)
        return order


def _uid(seed: int, index: int, owner: bytes, valid_to: int) -> str:
    digest = hashlib.sha256(f"tributary-generate:{seed}:{index}".encode()).digest()
    return "0x" + (digest + owner + valid_to.to_bytes(4, "big")).hex()


def encode(
    order: Drawn, index: int, owner: bytes, settings: Settings, gas_price: Fraction, native: str
) -> dict[str, Any]:
    """The legacy-format entry of a drawn order (amounts rounded to whole base units; the
    limit side rounded in the user's disfavour by at most one unit, so the rate holds)."""
    wei = Fraction(order.value) * 10**18
    rate = Fraction(order.rate)
    if order.is_sell:
        sell_amount = max(1, int(wei / order.sell.price))
        buy_amount = max(1, math.ceil(sell_amount * order.sell.price / order.buy.price * rate))
    else:
        buy_amount = max(1, int(wei / order.buy.price))
        sell_amount = max(1, int(buy_amount * order.buy.price / order.sell.price / rate))
    cost = int(gas_price * GAS_PER_TRADE)
    fee = max(1, int(cost / order.sell.price)) if order.market else 0
    return {
        "id": _uid(settings.seed, index, owner, settings.valid_to),
        "sell_token": order.sell.address,
        "buy_token": order.buy.address,
        "sell_amount": str(sell_amount),
        "buy_amount": str(buy_amount),
        "allow_partial_fill": order.partial,
        "is_sell_order": order.is_sell,
        "fee": {"amount": str(fee), "token": order.sell.address},
        "cost": {"amount": str(cost), "token": native},
        "is_liquidity_order": False,
        "is_mature": True,
        "mandatory": False,
        "has_atomic_execution": False,
        "reward": 0.0,
    }


def generate_orders(
    doc: Mapping[str, Any], settings: Settings, progress: bool = False
) -> Iterator[dict[str, Any]]:
    """The N order entries, in order (index ``i`` → key ``str(i)``)."""
    tokens = liquid_tokens(doc, settings.min_depth)
    generator = _Generator(tokens, settings)
    gas_price = Fraction(str(doc["metadata"]["gas_price"]))
    native = str(doc["metadata"]["native_token"]).lower()
    indices = tqdm(
        range(settings.orders),
        desc="generating orders",
        unit="order",
        disable=not progress,
        file=sys.stderr,
    )
    for index in indices:
        drawn = generator.draw()
        owner = generator.rng.getrandbits(160).to_bytes(20, "big")
        yield encode(drawn, index, owner, settings, gas_price, native)


def generate(doc: Mapping[str, Any], settings: Settings, progress: bool = False) -> bytes:
    """The generated auction document, as bytes (see the module docstring)."""
    orders = {str(i): entry for i, entry in enumerate(generate_orders(doc, settings, progress))}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        out[key] = orders if key == "orders" else value
    if "orders" not in out:
        out["orders"] = orders
    out["metadata"] = {**doc.get("metadata", {}), "generator": asdict(settings)}
    return json.dumps(out, separators=(",", ":")).encode() + b"\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tributary bench generate",
        description=(
            "Write an auction of N generated orders over a snapshot's liquidity, in the "
            "snapshot's format (distributions: bench/generate.py, bench/README.md)."
        ),
    )
    p.add_argument(
        "--snapshot", default=DEFAULT_SNAPSHOT, help="legacy auction file to keep the liquidity of"
    )
    p.add_argument("--orders", type=int, required=True, help="how many orders to write")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    p.add_argument("--out", required=True, help="file to write ('-' for stdout)")
    p.add_argument(
        "--min-value", type=float, default=0.01, help="smallest order value, native units"
    )
    p.add_argument(
        "--max-value", type=float, default=100.0, help="largest order value, native units"
    )
    p.add_argument("--sell-share", type=float, default=0.8, help="share of sell orders")
    p.add_argument(
        "--market-share",
        type=float,
        default=0.2,
        help="share of market orders (signed fee, fill-or-kill)",
    )
    p.add_argument(
        "--partial-share", type=float, default=0.5, help="share of limit orders partially fillable"
    )
    p.add_argument(
        "--in-the-money", type=float, default=0.3, help="share of orders priced inside the market"
    )
    p.add_argument(
        "--market",
        choices=sorted(FACING),
        default="normal",
        help="facing rate preset: normal (0.001) or busy (0.1)",
    )
    p.add_argument(
        "--facing",
        type=float,
        default=None,
        help="probability an order faces an earlier one (overrides --market)",
    )
    p.add_argument(
        "--min-depth",
        type=float,
        default=10.0,
        help="pool depth (native units) for a token to count as liquid",
    )
    p.add_argument(
        "--valid-to", type=int, default=MAX_VALID_TO, help="orders' validTo (u32 timestamp)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = Settings(
            orders=args.orders,
            seed=args.seed,
            min_value=args.min_value,
            max_value=args.max_value,
            sell_share=args.sell_share,
            market_share=args.market_share,
            partial_share=args.partial_share,
            in_the_money=args.in_the_money,
            facing=FACING[args.market] if args.facing is None else args.facing,
            min_depth=args.min_depth,
            valid_to=args.valid_to,
        )
        doc = json.loads(Path(args.snapshot).read_bytes())
        started = time.perf_counter()
        body = generate(doc, settings, progress=args.orders >= 5_000)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"tributary bench generate: {exc}", file=sys.stderr)
        return 2
    if args.out == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(args.out).write_bytes(body)
    print(
        f"{args.orders} orders (seed {args.seed}) in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
