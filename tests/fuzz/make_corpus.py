#!/usr/bin/env python3
"""Regenerates the seed corpora in corpus/ from tests/fixtures (run from anywhere).

Cuts a few real frames, bodies, record blocks and CARs out of the firehose capture and adds
hand-written vectors for the text codecs. Deterministic: same inputs, same files."""
import base64, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', 'fixtures', 'pds-firehose')
DATA = os.path.join(HERE, '..', 'atproto', 'data')


def item_len(b, i):
    """Length of the CBOR item at b[i:] (minimal parser for definite-length data)."""
    ib = b[i]; major, ai = ib >> 5, ib & 31
    j = i + 1
    if ai < 24: arg = ai
    elif ai <= 27:
        n = 1 << (ai - 24); arg = int.from_bytes(b[j:j + n], 'big'); j += n
    else: raise ValueError('unsupported')
    if major in (0, 1, 7): return j - i
    if major in (2, 3): return j + arg - i
    if major == 4:
        for _ in range(arg): j += item_len(b, j)
        return j - i
    if major == 5:
        for _ in range(2 * arg): j += item_len(b, j)
        return j - i
    if major == 6: return j + item_len(b, j) - i


def map_field(b, i, key):
    """Returns (start, length) of the value under `key` in the map at b[i:]."""
    ib = b[i]; ai = ib & 31; j = i + 1
    if ai >= 24: n = 1 << (ai - 24); arg = int.from_bytes(b[j:j + n], 'big'); j += n
    else: arg = ai
    for _ in range(arg):
        kl = item_len(b, j); k = b[j:j + kl]; j += kl
        vl = item_len(b, j)
        if k[1:] == key.encode() or k[2:] == key.encode(): return j, vl
        j += vl
    return None


def bytes_payload(b, start):
    ib = b[start]; ai = ib & 31; j = start + 1
    if ai >= 24: n = 1 << (ai - 24); arg = int.from_bytes(b[j:j + n], 'big'); j += n
    else: arg = ai
    return b[j:j + arg]


def write(name, fname, data):
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    raw = open(os.path.join(SHARED, 'firehose.bin'), 'rb').read()
    frames = []
    pos = 0
    while pos < len(raw):
        (n,) = struct.unpack('>I', raw[pos:pos + 4]); frames.append(raw[pos + 4:pos + 4 + n]); pos += 4 + n
    events = json.load(open(os.path.join(SHARED, 'decoded.json')))['events']
    picks = [0, 1, 2, 3]  # identity, account, empty commit, sync
    picks += [e['index'] for e in events if e['t'] == '#commit' and e['ops']][:2]
    picks += [e['index'] for e in events if any('follow' in o['path'] and o['action'] == 'delete'
                                                 for o in e.get('ops', []))][:1]
    cars = 0
    for idx in picks:
        fr = frames[idx]
        hl = item_len(fr, 0)
        write('cbor', f'frame_{idx:03d}', fr)
        write('cbor', f'body_{idx:03d}', fr[hl:])
        if idx == 0: write('cbor', 'header_identity', fr[:hl])
        blk = map_field(fr, hl, 'blocks')
        if blk:
            car = bytes_payload(fr, blk[0])
            write('car', f'car_{idx:03d}', car); cars += 1
            # First block of the CAR (after the header): its CID (binary) and its data.
            (hlen, p) = (car[0], 1)
            p += hlen
            # section varint
            v, shift = 0, 0
            while True:
                c = car[p]; v |= (c & 0x7f) << shift; p += 1; shift += 7
                if not c & 0x80: break
            write('cid', f'binary_{idx:03d}', car[p:p + 36])
            write('cbor', f'block_{idx:03d}', car[p + 36:p + v])
            write('varint', f'car_{idx:03d}', car[:1] + car[1 + hlen:1 + hlen + 3])
    # Golden DAG-CBOR from the interop fixtures and protocol.md.
    for i, f in enumerate(json.load(open(os.path.join(DATA, 'data-model-fixtures.json')))):
        b64 = f['cbor_base64']
        write('cbor', f'datamodel_{i}', base64.b64decode(b64 + '=' * (-len(b64) % 4)))
        write('cid', f'datamodel_{i}', f['cid'])
        write('base32', f'datamodel_{i}', f['cid'][1:])
        write('base64', f'datamodel_{i}', b64)
    write('cbor', 'label_indigo', bytes.fromhex(
        'a563637473781832303234' '2d31302d32335431373a35313a31392e3132385a'
        '637372637820' '6469643a706c633a6e3374696d766f6962356e61753767767764366373686170'
        '637572697820' '6469643a706c633a343479626172643636767634347a6b736a6532356f37647a'
        '6376616c6b626c61646572756e6e657263766572 01'.replace(' ', '')))
    for name, hx in {'float': 'fb3ff0000000000000', 'indefinite': '9f01ff',
                     'unsorted': 'a2616201616101', 'tag': 'c11a5f5e1000',
                     'deep': '81' * 40 + '00'}.items():
        write('cbor', f'bad_{name}', bytes.fromhex(hx))
    keys = ['zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC',
            'zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo',
            'zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc']
    for i, k in enumerate(keys):
        write('multikey', f'multikey_{i}', k)
        write('multikey', f'didkey_{i}', 'did:key:' + k)
        write('base58', f'key_{i}', k[1:])
    write('base58', 'zeros', '111StV1DL6CwTryKyV')
    write('base64', 'sig_padded', 'uCRNA5mTzh078T5xZtkvLEt/O+z0gsKM3aqRI/lVAB8ZtbMnznwS/JwHopZE40JhNNDj80z8gsDLAp/hWqG5Pg==')
    write('base64', 'short', 'Zm8')
    write('base32', 'short', 'mzxw6ytboi')
    write('cid', 'string_raw', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    write('cid', 'string_v0', 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR')
    write('varint', 'codecs', bytes.fromhex('e701802471122000'))
    print(f'{len(picks)} frames, {cars} CARs')


if __name__ == '__main__':
    sys.exit(main())
