#!/usr/bin/env node
// Independent check of a running random-labeler's serving endpoints with the reference
// JavaScript stack: `ws` for subscribeLabels, cborg/@ipld/dag-cbor for frame decoding,
// @atproto/crypto for signatures, @atproto/api's lexicons for label validation.
//
// Usage: node check-server.mjs PORT DID_KEY EXPECTED_LABELS
// Replays subscribeLabels from cursor=0 until EXPECTED_LABELS frames arrived, checking each
// frame (two DAG-CBOR items, header {op:1,t:"#labels"}, body {seq, labels:[one label]}, seq
// strictly increasing, canonical bytes, lexicon-valid label, signature verifies against
// DID_KEY); then pages queryLabels?uriPatterns=* (limit=100) and checks the same for every
// JSON label. Prints a summary line; exits 0 only when everything passes.
import WebSocket from 'ws';
import * as cborg from 'cborg';
import * as dagCbor from '@ipld/dag-cbor';
import { verifySignature } from '@atproto/crypto';
import { lexicons, jsonStringToLex } from '@atproto/api';

const [port, didKey, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const sameBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const failures = [];

async function checkLabel(label, where) {
  if (label.ver !== 1) return failures.push(`${where}: ver is ${label.ver}`);
  if (!(label.sig instanceof Uint8Array) || label.sig.length !== 64)
    return failures.push(`${where}: sig is not 64 bytes`);
  const valid = lexicons.validate('com.atproto.label.defs#label', label);
  if (!valid.success) return failures.push(`${where}: lexicon: ${valid.error.message}`);
  const { sig, ...unsigned } = label;
  if (!(await verifySignature(didKey, dagCbor.encode(unsigned), sig)))
    failures.push(`${where}: signature does not verify`);
}

async function checkStream() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/xrpc/com.atproto.label.subscribeLabels?cursor=0`);
  const frames = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout after ${frames.length} frames`)), 60000);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) failures.push('a text frame arrived');
      frames.push(Buffer.from(data));
      if (frames.length >= expected) { clearTimeout(timer); resolve(); }
    });
    ws.on('error', reject);
    ws.on('close', () => { clearTimeout(timer); resolve(); });
  });
  ws.close();
  let lastSeq = 0;
  for (const [i, bytes] of frames.entries()) {
    const [header, rest] = cborg.decodeFirst(bytes, dagCbor.decodeOptions);
    const body = dagCbor.decode(rest);  // exactly one item left
    if (!sameBytes(dagCbor.encode(header), bytes.subarray(0, bytes.length - rest.length)))
      failures.push(`frame ${i}: header not canonical`);
    if (!sameBytes(dagCbor.encode(body), rest)) failures.push(`frame ${i}: body not canonical`);
    if (header.op !== 1 || header.t !== '#labels') {
      failures.push(`frame ${i}: header ${JSON.stringify(header)}`);
      continue;
    }
    if (!(body.seq > lastSeq)) failures.push(`frame ${i}: seq ${body.seq} after ${lastSeq}`);
    lastSeq = body.seq;
    if (!Array.isArray(body.labels) || body.labels.length !== 1)
      failures.push(`frame ${i}: expected one label`);
    for (const l of body.labels ?? []) await checkLabel(l, `frame ${i}`);
  }
  return frames.length;
}

async function checkQuery() {
  let cursor;
  let count = 0;
  for (let page = 0; page < 100000; page++) {
    const url = new URL(`http://127.0.0.1:${port}/xrpc/com.atproto.label.queryLabels`);
    url.searchParams.append('uriPatterns', '*');
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const res = await fetch(url);
    if (res.status !== 200) { failures.push(`queryLabels: HTTP ${res.status}`); break; }
    if (res.headers.get('access-control-allow-origin') !== '*') failures.push('queryLabels: no CORS');
    const text = await res.text();
    const body = jsonStringToLex(text);
    for (const [i, l] of body.labels.entries()) await checkLabel(l, `query ${count + i}`);
    count += body.labels.length;
    if (!body.cursor) break;
    cursor = body.cursor;
  }
  return count;
}

try {
  const streamed = await checkStream();
  const queried = await checkQuery();
  if (streamed !== expected) failures.push(`streamed ${streamed} frames, expected ${expected}`);
  if (queried !== expected) failures.push(`queryLabels returned ${queried} labels, expected ${expected}`);
  for (const f of failures.slice(0, 20)) console.log(`FAIL ${f}`);
  console.log(`frames=${streamed} queried=${queried} failures=${failures.length}`);
  process.exit(failures.length ? 1 : 0);
} catch (e) {
  console.log(`FAIL error: ${e.message}`);
  process.exit(1);
}
