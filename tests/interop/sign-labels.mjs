#!/usr/bin/env node
// Signs labels with @atproto/crypto so random-labeler's verifier can be checked against an
// independent signer.
//
// Usage: node sign-labels.mjs k256|p256 COUNT
// Prints COUNT JSON lines {"cbor_hex", "unsigned_hex", "did_key"} from a fresh random keypair;
// labels vary neg/cid/exp and include non-ASCII values.
import * as dagCbor from '@ipld/dag-cbor';
import { Secp256k1Keypair, P256Keypair } from '@atproto/crypto';

const [curve, countArg] = process.argv.slice(2);
const keypair = curve === 'p256' ? await P256Keypair.create() : await Secp256k1Keypair.create();
const count = Number(countArg ?? 8);
for (let i = 0; i < count; i++) {
  const label = {
    ver: 1,
    src: 'did:plc:interoplabeler',
    uri: i % 2 ? `did:plc:subject${i}` : `at://did:plc:subject${i}/app.bsky.feed.post/3jzfcijpj2z2a`,
    val: i % 3 === 0 ? `kichi-${'吉'.repeat(i)}` : 'daikichi',
    cts: new Date(Date.UTC(2026, 10, 29, 10, 0, i)).toISOString(),
  };
  if (i % 4 === 1) label.neg = true;
  if (i % 4 === 2) label.neg = false;  // skyware-style: neg:false present in signed bytes
  if (i % 5 === 3) label.cid = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
  if (i % 3 === 1) label.exp = new Date(Date.UTC(2027, 0, 1)).toISOString();
  const unsigned = dagCbor.encode(label);
  const sig = await keypair.sign(unsigned);
  const signed = dagCbor.encode({ ...label, sig });
  console.log(JSON.stringify({
    cbor_hex: Buffer.from(signed).toString('hex'),
    unsigned_hex: Buffer.from(unsigned).toString('hex'),
    did_key: keypair.did(),
  }));
}
