// Independent DAG-CBOR implementation (@ipld/dag-cbor, strict defaults) for test_dagcbor_interop.
// Run with cwd = tests/interop (where node_modules lives):
//   node --input-type=module - check FILE   < dagcbor_check.mjs
//     FILE has one hex item per line; prints, per line, the hex of decode-then-encode or "ERR …".
//   node --input-type=module - gen N SEED   < dagcbor_check.mjs
//     prints N random values encoded by @ipld/dag-cbor, one hex line each.
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { readFileSync } from 'node:fs';

const [mode, arg1, arg2] = process.argv.slice(2);
const hex = (u8) => Buffer.from(u8).toString('hex');

if (mode === 'check') {
  const out = [];
  for (const line of readFileSync(arg1, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(hex(dagCbor.encode(dagCbor.decode(Buffer.from(line, 'hex')))));
    } catch (e) {
      out.push('ERR ' + String(e.message).replace(/\n/g, ' '));
    }
  }
  process.stdout.write(out.join('\n') + '\n');
} else if (mode === 'gen') {
  let s = BigInt(arg2) || 1n;
  const rnd = () => {  // xorshift64
    s ^= (s << 13n) & 0xffffffffffffffffn; s ^= s >> 7n; s ^= (s << 17n) & 0xffffffffffffffffn;
    return Number(s & 0xffffffffn);
  };
  const pieces = ['a', 'b', 'z', 'é', '☎', '😀', '0', '$type', ' ', 'key'];
  const str = (max) => { let r = ''; const n = rnd() % (max + 1); for (let i = 0; i < n; i++) r += pieces[rnd() % 10]; return r; };
  const links = [];
  for (let i = 0; i < 4; i++) {
    const h = await sha256.digest(new TextEncoder().encode('block' + i));
    links.push(CID.createV1(i % 2 ? 0x55 : 0x71, h));
  }
  const make = (depth) => {
    switch (rnd() % (depth > 3 ? 7 : 9)) {
      case 0: return null;
      case 1: return rnd() % 2 === 0;
      case 2: { const v = rnd() % 4 === 0 ? rnd() * 65536 + rnd() : rnd() % 70000; return rnd() % 2 ? v : -v - 1; }
      case 3: return str(10);
      case 4: { const b = new Uint8Array(rnd() % 40); for (let i = 0; i < b.length; i++) b[i] = rnd() & 255; return b; }
      case 5: return links[rnd() % links.length];
      case 6: { const v = BigInt(rnd() & 0x7fffffff) * 4294967296n + BigInt(rnd()); return rnd() % 2 ? v : -v - 1n; }  // int64
      case 7: { const a = []; const n = rnd() % 5; for (let i = 0; i < n; i++) a.push(make(depth + 1)); return a; }
      default: { const o = {}; const n = rnd() % 5; for (let i = 0; i < n; i++) o[str(4)] = make(depth + 1); return o; }
    }
  };
  const out = [];
  for (let i = 0; i < Number(arg1); i++) out.push(hex(dagCbor.encode(make(0))));
  process.stdout.write(out.join('\n') + '\n');
} else {
  process.stderr.write('usage: check FILE | gen N SEED\n');
  process.exit(2);
}
