// Tributary explorer: renders the node's public JSON API (CoW's orders, trades, solver
// competition and event stream; /api/v1/rounds for routes and why solutions lost).
// Plain browser JavaScript, no build step; every link and control works from the keyboard.
"use strict";

const TOKENS = {}; // address -> {symbol, decimals}, from /api/v1/rounds
const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false)
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}
function learn(rounds) { for (const r of rounds) Object.assign(TOKENS, r.tokens); return rounds; }

const short = (hex) => (hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex);
const symbol = (t) => (TOKENS[t] && TOKENS[t].symbol) || short(t);
function human(base, decimals) {
  // an exact decimal string from base units, then 6 significant digits for reading
  const digits = BigInt(base).toString().padStart(decimals + 1, "0");
  const value = Number(`${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`);
  return value.toLocaleString("en-US", { maximumSignificantDigits: 6 });
}
function amount(base, token) {
  const info = TOKENS[token];
  if (!info || info.decimals === null || info.decimals === undefined) return `${base} ${symbol(token)}`;
  return `${human(base, info.decimals)} ${symbol(token)}`;
}
const eth = (wei) => (wei === null || wei === undefined ? "–" : `${human(wei, 18)} ETH`);
const badge = (word) => h("span", { class: `badge ${word}` }, word);
const orderLink = (uid) => h("a", { href: `/explorer/orders/${uid}`, class: "mono", title: uid }, `${uid.slice(0, 10)}…`);
const auctionLink = (id) => h("a", { href: `/explorer/auctions/${id}` }, `auction ${id}`);
const tx = (hash) => (hash ? h("span", { class: "mono", title: hash }, short(hash)) : "–");
function table(head, rows) {
  return h("div", { class: "table" }, h("table", {},
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}
function section(title, ...content) { return h("section", {}, h("h2", {}, title), ...content); }

// ---- the route picture -------------------------------------------------------------------

// The legs of `solution` that carry `trade`'s sell token towards its buy token, by hop.
function pathLegs(solution, trade) {
  const reaches = new Set([trade.buyToken]);
  for (let changed = true; changed;) {
    changed = false;
    for (const l of solution.legs) if (reaches.has(l.tokenOut) && !reaches.has(l.tokenIn)) { reaches.add(l.tokenIn); changed = true; }
  }
  const depth = { [trade.sellToken]: 0 };
  const legs = [];
  for (const l of solution.legs) { // legs are in execution (topological) order
    if (depth[l.tokenIn] === undefined || !reaches.has(l.tokenOut)) continue;
    depth[l.tokenOut] = Math.max(depth[l.tokenOut] || 0, depth[l.tokenIn] + 1);
    legs.push(l);
  }
  return { legs, depth };
}

function routeFigure(solution, uid) {
  const trade = solution.trades.find((t) => t.uid === uid);
  if (!trade) return null;
  const { legs, depth } = pathLegs(solution, trade);
  const others = solution.trades.filter((t) => t.uid !== uid);
  const matched = others.filter((t) => t.sellToken === trade.buyToken && t.buyToken === trade.sellToken);
  const hops = Math.max(1, depth[trade.buyToken] || 1);
  // columns: you pay | sell token | pool | token | pool | ... | buy token | you receive
  const W = 236, GAP = 36, BOX = 44;
  const colX = (c) => 10 + c * (W + GAP);
  const cols = 2 * hops + 3;
  const rows = {}; // column -> items placed
  const place = (col) => { rows[col] = (rows[col] || 0) + 1; return rows[col] - 1; };
  const items = [];
  const node = (col, lines, cls, key) => { const row = place(col); items.push({ col, row, lines, cls, key }); return items[items.length - 1]; };
  const tokenCol = (t) => 1 + 2 * (t === trade.buyToken ? hops : depth[t]);
  const pay = node(0, ["you pay", amount(trade.sellAmount, trade.sellToken)], "user");
  const tokens = {};
  const tokenNode = (t) => tokens[t] || (tokens[t] = node(tokenCol(t), [symbol(t), short(t)], "token"));
  const sell = tokenNode(trade.sellToken);
  const edges = [[pay, sell, 1]];
  // line widths: each leg's share of the flow of its input token out of the settlement
  const outflow = {};
  for (const l of legs) outflow[l.tokenIn] = (outflow[l.tokenIn] || 0n) + BigInt(l.amountIn);
  const sold = solution.trades.filter((t) => t.sellToken === trade.sellToken).reduce((a, t) => a + BigInt(t.sellAmount), 0n);
  const total = outflow[trade.sellToken] && outflow[trade.sellToken] > sold ? outflow[trade.sellToken] : sold;
  outflow[trade.sellToken] = total;
  for (const l of legs) {
    const pool = node(tokenCol(l.tokenIn) + 1,
      [`${l.kind || "pool"} ${short(l.address || l.pool)}`, `${amount(l.amountIn, l.tokenIn)} →`, amount(l.amountOut, l.tokenOut)],
      l.internalized ? "pool internal" : "pool");
    const share = Number((BigInt(l.amountIn) * 1000n) / outflow[l.tokenIn]) / 1000;
    edges.push([tokenNode(l.tokenIn), pool, share], [pool, tokenNode(l.tokenOut), share]);
  }
  const buy = tokenNode(trade.buyToken);
  if (matched.length) {
    const cow = node(2, [`matched with ${matched.length} order(s)`, "in this settlement:",
      `they pay ${amount(matched.reduce((a, t) => a + BigInt(t.sellAmount), 0n).toString(), trade.buyToken)}`], "cow");
    const viaPools = legs.filter((l) => l.tokenIn === trade.sellToken).reduce((a, l) => a + BigInt(l.amountIn), 0n);
    const share = Math.max(0.05, 1 - Number((viaPools * 1000n) / total) / 1000);
    edges.push([sell, cow, share], [cow, buy, share]);
  }
  edges.push([buy, node(cols - 1, ["you receive", amount(trade.buyAmount, trade.buyToken)], "user"), 1]);
  const height = 20 + Math.max(...Object.values(rows)) * (BOX + 26);
  const y = (it) => 10 + it.row * (BOX + 26) + (height - 20 - rows[it.col] * (BOX + 26)) / 2;
  const lineH = (it) => (it.lines.length > 2 ? 15 : 19);
  const boxH = (it) => Math.max(BOX, 10 + it.lines.length * lineH(it));
  const svg = s("svg", { viewBox: `0 0 ${colX(cols - 1) + W + 10} ${height + 20}`, role: "img", "aria-labelledby": "route-title route-desc" },
    s("title", { id: "route-title" }, `Route of order ${short(uid)}`),
    s("desc", { id: "route-desc" }, `${amount(trade.sellAmount, trade.sellToken)} to ${amount(trade.buyAmount, trade.buyToken)} through ${legs.length} pool leg(s)${matched.length ? ` and ${matched.length} matched order(s)` : ""}`));
  const fill = { user: "#e8f0fe", token: "#fff7e0", pool: "#eaf7ee", "pool internal": "#f3f3f3", cow: "#fde8f0" };
  for (const [a, b, share] of edges) {
    const x1 = colX(a.col) + W, y1 = y(a) + boxH(a) / 2, x2 = colX(b.col), y2 = y(b) + boxH(b) / 2, mx = (x1 + x2) / 2;
    svg.append(s("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none",
      stroke: "#7a8ca3", "stroke-opacity": 0.7, "stroke-width": 2 + 12 * share }));
  }
  for (const it of items) {
    const g = s("g", { class: `node ${it.cls}` });
    g.append(s("rect", { x: colX(it.col), y: y(it), width: W, height: boxH(it), rx: 6, fill: fill[it.cls], stroke: "#8c959f" }));
    it.lines.forEach((text, i) => g.append(s("text", { x: colX(it.col) + 8, y: y(it) + 18 + i * lineH(it),
      "font-size": i === 0 ? 13 : 12, "font-weight": i === 0 ? 600 : 400, fill: "#1b1f24" }, text)));
    svg.append(g);
  }
  const alike = solution.trades.filter((t) => t.sellToken === trade.sellToken && t.buyToken === trade.buyToken).length;
  const legRows = legs.map((l) => [h("span", { class: "mono" }, short(l.address || l.pool)), l.kind || "–",
    amount(l.amountIn, l.tokenIn), amount(l.amountOut, l.tokenOut), l.internalized ? "from buffers" : "swap"]);
  const scroll = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "route picture (scrolls sideways)" });
  scroll.append(svg);
  return h("figure", { class: "route", id: "route" }, scroll,
    h("figcaption", {}, `Route of this order in ${solution.solver}#${solution.solutionId}'s settlement: its legs carrying ${symbol(trade.sellToken)} to ${symbol(trade.buyToken)}, shared by the ${alike} order(s) of the settlement that sell ${symbol(trade.sellToken)} for ${symbol(trade.buyToken)} (line width: share of the token's flow)${matched.length ? ", and the orders they were matched with" : ""}.`),
    legs.length ? table(["pool", "kind", "in", "out", ""], legRows) : null);
}

// ---- pages -----------------------------------------------------------------------------

function solutionRows(round, competition) {
  const scores = {};
  for (const c of (competition && competition.solutions) || []) scores[c.ranking] = c;
  return round.solutions.map((sol) => {
    const cow = scores[sol.ranking];
    return [sol.ranking || "–", `${sol.solver}#${sol.solutionId}`, eth(cow ? cow.score : sol.score),
      badge(sol.outcome), sol.reason + (sol.code ? ` [${sol.code}]` : ""),
      sol.trades.length ? h("span", {}, sol.trades.map((t, i) => [i ? ", " : "", orderLink(t.uid)])) : "–",
      tx(sol.txHash)];
  });
}

function settlementRows(rounds) {
  const rows = [];
  for (const r of rounds) for (const sol of r.solutions) if (sol.txHash)
    rows.push([tx(sol.txHash), sol.blockNumber ?? "–", sol.gasUsed ?? "–", auctionLink(r.auctionId),
      `${sol.solver}#${sol.solutionId}`, h("span", {}, sol.trades.map((t, i) => [i ? ", " : "", orderLink(t.uid)])), badge(sol.outcome)]);
  return rows;
}

async function homePage(main) {
  const rounds = learn(await api("/api/v1/rounds?limit=20"));
  const winners = (r) => r.solutions.filter((x) => ["settled", "reverted", "cancelled", "dropped"].includes(x.outcome));
  main.append(
    section("Latest auctions", rounds.length ? table(["auction", "deadline", "orders", "solutions", "winners", ""],
      rounds.map((r) => [auctionLink(r.auctionId), r.deadline ? new Date(r.deadline).toLocaleTimeString() : "–", r.orders.length,
        r.solutions.length, winners(r).map((w) => `${w.solver}#${w.solutionId}`).join(", ") || "none", r.error || ""]))
      : h("p", {}, "No auction yet: post an order (or run tributary demo).")),
    section("Settlements", table(["transaction", "block", "gas used", "auction", "solver", "orders", ""], settlementRows(rounds))));
}

async function auctionPage(main, id) {
  const [round, competition] = await Promise.all([api(`/api/v1/rounds/${id}`), api(`/api/v2/solver_competition/${id}`)]);
  if (!round) { main.append(h("p", {}, `The node keeps no round of auction ${id}.`)); return; }
  learn([round]);
  main.append(
    h("dl", { class: "facts" }, h("dt", {}, "solvers' deadline"), h("dd", {}, round.deadline ? new Date(round.deadline).toLocaleString() : "–"),
      h("dt", {}, "start block"), h("dd", {}, competition ? competition.auctionStartBlock : "–"),
      h("dt", {}, "orders"), h("dd", {}, round.orders.map((u, i) => [i ? ", " : "", orderLink(u)])),
      round.unfunded.length ? [h("dt", {}, "left out (unfunded)"), h("dd", {}, round.unfunded.map(orderLink))] : null,
      round.error ? [h("dt", {}, "error"), h("dd", {}, round.error)] : null),
    section("Bids", table(["rank", "solver", "score", "outcome", "why", "orders", "transaction"], solutionRows(round, competition))),
    section("Settlements", table(["transaction", "block", "gas used", "auction", "solver", "orders", ""], settlementRows([round]))));
}

function historyItems(order, rounds, uid) {
  const items = [h("li", {}, `${new Date(order.creationDate).toLocaleString()}: created, ${order.kind} ${amount(order.sellAmount, order.sellToken)} for ${order.kind === "sell" ? "at least" : "exactly"} ${amount(order.buyAmount, order.buyToken)}`)];
  let quiet = []; // consecutive rounds in which nothing happened to it, shown as one line
  const flush = () => {
    if (quiet.length) items.push(h("li", {}, auctionLink(quiet[0].auctionId), quiet.length > 1 ? [" to ", auctionLink(quiet[quiet.length - 1].auctionId)] : "",
      `: ${quiet[0].why}`));
    quiet = [];
  };
  for (const r of [...rounds].reverse()) {
    const bids = r.solutions.filter((x) => x.trades.some((t) => t.uid === uid));
    const won = bids.find((x) => x.txHash && x.outcome === "settled");
    if (!bids.length) {
      const why = r.unfunded.includes(uid) ? "left out: its owner could not pay" : r.error || "no solution filled it";
      if (quiet.length && quiet[0].why !== why) flush();
      quiet.push({ auctionId: r.auctionId, why });
      continue;
    }
    flush();
    const text = won ? `settled by ${won.solver}#${won.solutionId} in transaction ${short(won.txHash)} (block ${won.blockNumber})`
      : `not settled: ${bids.map((b) => `${b.solver}#${b.solutionId}: ${b.reason}`).join("; ")}`;
    items.push(h("li", {}, auctionLink(r.auctionId), `: ${bids.length} bid(s) for it; ${text}`));
  }
  flush();
  return items;
}

async function orderPage(main, uid) {
  const [order, trades, rounds] = await Promise.all([api(`/api/v1/orders/${uid}`), api(`/api/v2/trades?orderUid=${uid}&limit=100`), api(`/api/v1/rounds?order=${uid}&limit=100`)]);
  if (!order) { main.append(h("p", {}, "No such order.")); return; }
  learn(rounds || []);
  const settledIn = (trades || []).map((t) => t.txHash);
  const winner = (rounds || []).flatMap((r) => r.solutions).find((x) => x.txHash && settledIn.includes(x.txHash) && x.trades.some((t) => t.uid === uid));
  main.append(
    h("dl", { class: "facts" },
      h("dt", {}, "status"), h("dd", { id: "order-status" }, badge(order.status)),
      h("dt", {}, "owner"), h("dd", { class: "mono" }, order.owner),
      h("dt", {}, "sells"), h("dd", {}, amount(order.sellAmount, order.sellToken)),
      h("dt", {}, "buys"), h("dd", {}, `${order.kind === "sell" ? "at least " : ""}${amount(order.buyAmount, order.buyToken)}`),
      h("dt", {}, "executed"), h("dd", {}, `sold ${amount(order.executedSellAmount, order.sellToken)}, bought ${amount(order.executedBuyAmount, order.buyToken)}`),
      h("dt", {}, "valid to"), h("dd", {}, new Date(order.validTo * 1000).toLocaleString())),
    section("Trades", (trades || []).length ? table(["transaction", "block", "sold", "bought"],
      trades.map((t) => [h("span", { class: "mono settlement-tx", title: t.txHash }, t.txHash), t.blockNumber, amount(t.sellAmount, t.sellToken), amount(t.buyAmount, t.buyToken)]))
      : h("p", {}, "Not traded yet.")),
    section("History", h("ol", { class: "history" }, historyItems(order, rounds || [], uid))),
    section("Route", winner ? h("details", { id: "route-details" }, h("summary", {}, `Show the route picture (${winner.solver}#${winner.solutionId})`), routeFigure(winner, uid))
      : h("p", {}, "No settled route yet.")));
}

function follow(main, owner, onChange) {
  if (!window.EventSource) return;
  const live = h("p", { class: "live", "aria-live": "polite" }, "Live: following the status stream.");
  main.append(live);
  const stream = new EventSource(owner ? `/api/v1/events?owner=${owner}` : "/api/v1/events");
  let pending = null;
  stream.addEventListener("status", (e) => {
    const change = JSON.parse(e.data);
    live.textContent = `Live: order ${short(change.uid)} is ${change.status}.`;
    clearTimeout(pending);
    pending = setTimeout(() => onChange(change), 500); // a batch settles several at once
  });
}

async function render() {
  const main = document.getElementById("main");
  const status = main.querySelector(".status");
  const { page, id } = main.dataset;
  const content = h("div", { id: "content" });
  try {
    if (page === "home") await homePage(content);
    else if (page === "auction") await auctionPage(content, id);
    else await orderPage(content, id);
    status.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  } catch (err) {
    status.textContent = `Could not load: ${err.message}`;
  }
  const open = document.getElementById("route-details");
  const wasOpen = open && open.open;
  const old = document.getElementById("content");
  if (old) old.replaceWith(content); else status.after(content);
  const again = document.getElementById("route-details");
  if (again && wasOpen) again.open = true;
  return main;
}

document.addEventListener("DOMContentLoaded", async () => {
  const main = await render();
  const { page, id } = main.dataset;
  const owner = page === "order" ? `0x${id.slice(66, 106)}` : null;
  follow(main, owner, (change) => { if (page !== "order" || change.uid === id) render(); });
});
