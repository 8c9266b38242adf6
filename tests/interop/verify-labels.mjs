#!/usr/bin/env node
// Independent check of labels produced by random-labeler, with the reference JavaScript stack
// (@ipld/dag-cbor, @atproto/crypto, @atproto/api's lexicons).
//
// Usage: node verify-labels.mjs FILE
// FILE holds JSON lines {"cbor_hex": "...", "did_key": "did:key:...", "json": "..."(optional)}.
// For each label: the CBOR decodes (strict), re-encodes to the same bytes, carries a 64-byte
// sig and ver 1, the bytes without sig verify against did_key, the label is valid against
// com.atproto.label.defs#label, and the optional JSON rendering denotes the same label.
// Prints one line per label; exits 0 only when every label passes.
import { readFileSync } from 'node:fs';
import * as dagCbor from '@ipld/dag-cbor';
import { verifySignature } from '@atproto/crypto';
import { lexicons, jsonStringToLex } from '@atproto/api';

const hex = (b) => Buffer.from(b).toString('hex');
const sameBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function check(entry) {
  const bytes = Buffer.from(entry.cbor_hex, 'hex');
  let label;
  try {
    label = dagCbor.decode(bytes);
  } catch (e) {
    return `does not decode: ${e.message}`;
  }
  if (!sameBytes(dagCbor.encode(label), bytes)) return 'not canonical: re-encoding differs';
  if (!(label.sig instanceof Uint8Array) || label.sig.length !== 64) return 'sig is not 64 bytes';
  if (label.ver !== 1) return `ver is ${label.ver}`;
  const { sig, ...unsigned } = label;
  const signing = dagCbor.encode(unsigned);
  if (entry.unsigned_hex !== undefined && hex(signing) !== entry.unsigned_hex) {
    return `signing bytes differ: node ${hex(signing)} vs ours ${entry.unsigned_hex}`;
  }
  const valid = lexicons.validate('com.atproto.label.defs#label', label);
  if (!valid.success) return `lexicon: ${valid.error.message}`;
  if (!(await verifySignature(entry.did_key, signing, sig))) return 'signature does not verify';
  if (entry.json !== undefined) {
    const fromJson = jsonStringToLex(entry.json);
    if (!sameBytes(dagCbor.encode(fromJson), bytes)) return 'JSON form denotes a different label';
  }
  return null;
}

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim() !== '');
let failures = 0;
for (const [i, line] of lines.entries()) {
  let problem;
  try {
    problem = await check(JSON.parse(line));
  } catch (e) {
    problem = `error: ${e.message}`;
  }
  if (problem) failures++;
  console.log(problem ? `FAIL ${i}: ${problem}` : `ok ${i}`);
}
if (lines.length === 0) {
  console.log('FAIL: no labels in input');
  process.exit(1);
}
process.exit(failures === 0 ? 0 : 1);
