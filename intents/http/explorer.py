"""The explorer: ``/explorer`` (latest auctions and settlements),
``/explorer/auctions/{auctionId}`` (bids per solver, scores, winners, why the others lost)
and ``/explorer/orders/{uid}`` (an order's story and its route as a picture).

The node serves each page as a small HTML document and one script and style sheet
committed beside this module (``explorer_static/``): the script reads the public
endpoints every integrator uses — CoW's ``/api/v1/orders``, ``/api/v2/trades``,
``/api/v2/solver_competition``, the ``/api/v1/events`` stream — and ``/api/v1/rounds`` for
what CoW's API does not say (routes, why a solution lost), and renders them; it follows
the event stream to update the page live. No build step, no separate web server.
"""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from intents.wire import parse_uid, to_hex

ROUTES = web.RouteTableDef()
STATIC = Path(__file__).with_name("explorer_static")
_ASSETS = {"explorer.js": "text/javascript", "explorer.css": "text/css"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Tributary explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/explorer/static/explorer.css">
<script src="/explorer/static/explorer.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <a class="brand" href="/explorer">Tributary explorer</a>
  <form action="/explorer/search" method="get" role="search">
    <label for="q">Order UID or auction id</label>
    <input id="q" name="q" required autocomplete="off" spellcheck="false">
    <button type="submit">Go</button>
  </form>
</header>
<main id="main" tabindex="-1" data-page="{page}" data-id="{ident}">
  <h1>{title}</h1>
  <p class="status" role="status" aria-live="polite">Loading…</p>
  <noscript><p>This page reads the node's public JSON API with a small script; without
  scripts, read <a href="/openapi.json">the API</a> directly.</p></noscript>
</main>
</body>
</html>
"""


def _page(page: str, title: str, ident: str = "") -> web.Response:
    body = _PAGE.format(page=page, title=html.escape(title), ident=html.escape(ident))
    return web.Response(text=body, content_type="text/html", charset="utf-8")


@ROUTES.get("/explorer")
async def home(request: web.Request) -> web.Response:
    return _page("home", "Latest auctions and settlements")


@ROUTES.get("/explorer/auctions/{auctionId:[0-9]{1,20}}")
async def auction(request: web.Request) -> web.Response:
    auction_id = int(request.match_info["auctionId"])
    return _page("auction", f"Auction {auction_id}", str(auction_id))


@ROUTES.get("/explorer/orders/{uid}")
async def order(request: web.Request) -> web.Response:
    uid = to_hex(parse_uid(request.match_info["uid"]))
    return _page("order", f"Order {uid[:10]}…{uid[-8:]}", uid)


@ROUTES.get("/explorer/search")
async def search(request: web.Request) -> web.Response:
    """The header's search box, without a script: an auction id or an order UID."""
    q = request.query.get("q", "").strip()
    if q.isascii() and q.isdigit() and len(q) <= 20:
        raise web.HTTPSeeOther(f"/explorer/auctions/{int(q)}")
    raise web.HTTPSeeOther(f"/explorer/orders/{to_hex(parse_uid(q.lower()))}")


@ROUTES.get("/explorer/static/{name}")
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise web.HTTPNotFound()
    return web.Response(
        body=(STATIC / name).read_bytes(),
        content_type=_ASSETS[name],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
