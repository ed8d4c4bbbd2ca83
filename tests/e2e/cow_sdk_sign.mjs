// Signs GPv2 orders the way a CoW Protocol client does, for tests/e2e/test_cow_sdk.py.
//
// Reads one JSON request on stdin:
//   {"chainId": 31337, "settlement": "0x..", "privateKey": "0x..",
//    "orders": [{sellToken, buyToken, receiver, sellAmount, buyAmount, validTo, appData,
//                feeAmount, kind, partiallyFillable}],
//    "apiUrl": "http://127.0.0.1:8080"   // optional: also post with the SDK's OrderBookApi
//   }
// and writes one JSON answer on stdout: {"owner": "0x..", "orders": [{"creation": <the
// OrderCreation body>, "uid": <UID computed by @cowprotocol/contracts>, "posted": <UID the
// API answered, when apiUrl is given>, "fetched": <the order GET returned, likewise>}]}.
//
// The EIP-712 domain is built for the given chain id and settlement address (the SDK's
// OrderSigningUtils knows only the canonical deployments), with the same @cowprotocol/contracts
// functions the SDK signs with.
import contracts from "@cowprotocol/contracts";
import sdk from "@cowprotocol/cow-sdk";
import { ethers } from "ethers";

const { domain, signOrder, computeOrderUid, SigningScheme } = contracts;
const { OrderBookApi } = sdk;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function main() {
  const request = await readStdin();
  const signer = new ethers.Wallet(request.privateKey);
  const owner = (await signer.getAddress()).toLowerCase();
  const orderDomain = domain(request.chainId, request.settlement);
  const api = request.apiUrl
    ? new OrderBookApi({ chainId: request.chainId, baseUrls: { [request.chainId]: request.apiUrl } })
    : null;

  const results = [];
  for (const spec of request.orders) {
    const order = { ...spec, sellTokenBalance: "erc20", buyTokenBalance: "erc20" };
    const signature = await signOrder(orderDomain, order, signer, SigningScheme.EIP712);
    const uid = computeOrderUid(orderDomain, order, owner);
    const creation = {
      ...order,
      signingScheme: "eip712",
      signature: ethers.utils.joinSignature(signature.data),
      from: owner,
    };
    const result = { creation, uid };
    if (api) {
      result.posted = await api.sendOrder(creation);
      result.fetched = await api.getOrder(uid);
    }
    results.push(result);
  }
  process.stdout.write(JSON.stringify({ owner, orders: results }));
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
