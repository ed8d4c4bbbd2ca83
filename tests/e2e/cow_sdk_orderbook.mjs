// Every OrderBookApi method of one cow-sdk version against a running node, for
// tests/e2e/test_cow_sdk_orderbook.py.
//
// Reads one JSON request on stdin:
//   {"sdk": "@cowprotocol/cow-sdk" | "cow-sdk-9", "apiUrl": "http://127.0.0.1:8080",
//    "chainId": 31337, "settlement": "0x..", "privateKey": "0x..",
//    "fill": <order that should trade>, "stuck": <order that cannot trade (it is cancelled)>,
//    "quote": <OrderQuoteRequest>, "appData": "<JSON document>", "nativeToken": "0x..",
//    "timeoutSeconds": 60}
// orders as {sellToken, buyToken, receiver, sellAmount, buyAmount, validTo, appData,
// feeAmount, kind, partiallyFillable}; signs them (EIP-712) with @cowprotocol/contracts, as
// the SDK does, and writes one JSON answer on stdout: {"owner", "uid", "stuckUid", "calls":
// {<method>: <answer> | {"error": {"status", "body"}}}}.
import contracts from "@cowprotocol/contracts";
import { ethers } from "ethers";

const { domain, signOrder, signOrderCancellations, computeOrderUid, SigningScheme } = contracts;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function attempt(call) {
  try {
    return await call();
  } catch (error) {
    const status = error?.response?.status ?? null;
    return { error: { status, body: error?.body ?? String(error?.message ?? error) } };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const request = await readStdin();
  const { OrderBookApi } = (await import(request.sdk)).default ?? (await import(request.sdk));
  const signer = new ethers.Wallet(request.privateKey);
  const owner = (await signer.getAddress()).toLowerCase();
  const orderDomain = domain(request.chainId, request.settlement);
  const api = new OrderBookApi({
    chainId: request.chainId,
    baseUrls: { [request.chainId]: request.apiUrl },
    limiterOpts: { tokensPerInterval: 1000, interval: "second" },
    backoffOpts: { numOfAttempts: 1 },
  });

  async function signed(spec) {
    const order = { ...spec, sellTokenBalance: "erc20", buyTokenBalance: "erc20" };
    const signature = await signOrder(orderDomain, order, signer, SigningScheme.EIP712);
    return {
      uid: computeOrderUid(orderDomain, order, owner),
      creation: {
        ...order,
        signingScheme: "eip712",
        signature: ethers.utils.joinSignature(signature.data),
        from: owner,
      },
    };
  }

  const calls = {};
  const fill = await signed(request.fill);
  const stuck = await signed(request.stuck);
  calls.sendOrder = await attempt(() => api.sendOrder(fill.creation));
  calls.sendStuckOrder = await attempt(() => api.sendOrder(stuck.creation));

  const deadline = Date.now() + request.timeoutSeconds * 1000;
  let order = await attempt(() => api.getOrder(fill.uid));
  while (order.status !== "fulfilled" && Date.now() < deadline) {
    await sleep(500);
    order = await attempt(() => api.getOrder(fill.uid));
  }
  calls.getOrder = order;
  calls.getOrderCompetitionStatus = await attempt(() => api.getOrderCompetitionStatus(fill.uid));
  calls.getTradesByOrder = await attempt(() => api.getTrades({ orderUid: fill.uid }));
  calls.getTradesByOwner = await attempt(() => api.getTrades({ owner }));
  const txHash = Array.isArray(calls.getTradesByOrder) ? calls.getTradesByOrder[0]?.txHash : null;
  calls.getTxOrders = await attempt(() => api.getTxOrders(txHash));
  calls.getOrders = await attempt(() => api.getOrders({ owner }));
  calls.getOrderMultiEnv = await attempt(() => api.getOrderMultiEnv(fill.uid));
  calls.getQuote = await attempt(() => api.getQuote({ ...request.quote, from: owner }));
  calls.getNativePrice = await attempt(() => api.getNativePrice(request.nativeToken));
  calls.getTotalSurplus = await attempt(() => api.getTotalSurplus(owner));
  const appDataHash = ethers.utils.keccak256(ethers.utils.toUtf8Bytes(request.appData));
  calls.appDataHash = appDataHash;
  calls.uploadAppData = await attempt(() => api.uploadAppData(appDataHash, request.appData));
  calls.getAppData = await attempt(() => api.getAppData(appDataHash));
  calls.getSolverCompetitionByTx = await attempt(() => api.getSolverCompetition(txHash));
  const auctionId = calls.getSolverCompetitionByTx?.auctionId;
  calls.getSolverCompetitionById = await attempt(() => api.getSolverCompetition(auctionId));
  calls.getVersion = await attempt(() => api.getVersion());
  const cancellation = await signOrderCancellations(
    orderDomain,
    [stuck.uid],
    signer,
    SigningScheme.EIP712,
  );
  calls.sendSignedOrderCancellations =
    (await attempt(() =>
      api.sendSignedOrderCancellations({
        orderUids: [stuck.uid],
        signature: ethers.utils.joinSignature(cancellation.data),
        signingScheme: "eip712",
      }),
    )) ?? null;
  calls.getCancelledOrder = await attempt(() => api.getOrder(stuck.uid));
  calls.getOrderLink = api.getOrderLink(fill.uid);
  calls.txHash = txHash;
  process.stdout.write(JSON.stringify({ owner, uid: fill.uid, stuckUid: stuck.uid, calls }));
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
