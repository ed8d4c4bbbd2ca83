// Reference values from CoW's own client code (@cowprotocol/contracts + ethers 5), for
// tests/intents/test_cow_reference.py.
//
// stdin:  {"chainId": 1, "settlement": "0x..", "privateKey": "0x..",
//          "orders": [{sellToken, buyToken, receiver, sellAmount, buyAmount, validTo, appData,
//                      feeAmount, kind, partiallyFillable, sellTokenBalance, buyTokenBalance}]}
//          (receiver may be null: the zero address, which the library wants as undefined)
// stdout: {"owner", "domainSeparator",
//          "orders": [{"digest", "uid", "eip712", "ethsign",
//                      "sdkUid", "sdkDigest", "sdkSignature"}],
//          "cancellation": {"digest", "eip712", "ethsign", "sdkSignature"},
//          "sdkDomainSeparator"}
// The plain fields come from @cowprotocol/contracts with the given domain; the sdk* fields
// from @cowprotocol/cow-sdk's OrderSigningUtils, which knows the settlement contract of each
// supported chain itself (so chainId must be one and settlement its canonical address).
import contracts from "@cowprotocol/contracts";
import sdk from "@cowprotocol/cow-sdk";
import { ethers } from "ethers";

const {
  domain,
  hashOrder,
  computeOrderUid,
  signOrder,
  hashOrderCancellations,
  signOrderCancellations,
  SigningScheme,
} = contracts;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const joined = (signature) => ethers.utils.joinSignature(signature.data);
const { OrderSigningUtils } = sdk;

async function main() {
  const request = await readStdin();
  const signer = new ethers.Wallet(request.privateKey);
  const owner = (await signer.getAddress()).toLowerCase();
  const orderDomain = domain(request.chainId, request.settlement);
  const orders = [];
  for (const spec of request.orders) {
    const order = { ...spec, receiver: spec.receiver ?? undefined };
    const generated = await OrderSigningUtils.generateOrderId(request.chainId, order, { owner });
    orders.push({
      digest: hashOrder(orderDomain, order),
      uid: computeOrderUid(orderDomain, order, owner),
      eip712: joined(await signOrder(orderDomain, order, signer, SigningScheme.EIP712)),
      ethsign: joined(await signOrder(orderDomain, order, signer, SigningScheme.ETHSIGN)),
      sdkUid: generated.orderId,
      sdkDigest: generated.orderDigest,
      sdkSignature: (await OrderSigningUtils.signOrder(order, request.chainId, signer)).signature,
    });
  }
  const uids = orders.map((o) => o.uid);
  const cancellation = {
    digest: hashOrderCancellations(orderDomain, uids),
    eip712: joined(await signOrderCancellations(orderDomain, uids, signer, SigningScheme.EIP712)),
    ethsign: joined(await signOrderCancellations(orderDomain, uids, signer, SigningScheme.ETHSIGN)),
    sdkSignature: (await OrderSigningUtils.signOrderCancellations(uids, request.chainId, signer))
      .signature,
  };
  const domainSeparator = ethers.utils._TypedDataEncoder.hashDomain(orderDomain);
  const sdkDomainSeparator = await OrderSigningUtils.getDomainSeparator(request.chainId);
  process.stdout.write(
    JSON.stringify({ owner, domainSeparator, orders, cancellation, sdkDomainSeparator }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
