// bench_labels: single-thread throughput of label signing, verification (k256, p256), CBOR
// encoding/decoding and JSON rendering. Prints one line per measurement.
// Usage: bench_labels [seconds-per-measurement (default 2)]
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/atproto/base64.hpp"
#include "src/atproto/crypto.hpp"
#include "src/atproto/datetime.hpp"
#include "src/atproto/label.hpp"
#include "src/atproto/multikey.hpp"

using namespace labeler::atproto;
using clock_type = std::chrono::steady_clock;

namespace {

volatile std::size_t sink = 0;

double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Runs `op` in batches until `seconds` of wall time have passed; prints operations per second
// of this thread's CPU time (the single-core figure, robust to a shared machine) and of wall
// time.
template <class Op>
double measure(const char* name, double seconds, Op op) {
    std::size_t n = 0;
    const auto start = clock_type::now();
    const double cpu_start = thread_cpu_seconds();
    const auto until = start + std::chrono::duration<double>(seconds);
    auto now = start;
    do {
        for (int i = 0; i < 64; ++i) sink = sink + op(n++);
        now = clock_type::now();
    } while (now < until);
    const double wall = std::chrono::duration<double>(now - start).count();
    const double cpu = thread_cpu_seconds() - cpu_start;
    const double rate = double(n) / cpu;
    std::printf("%-34s %12.0f /s per CPU-second (%.2f us each); wall %.0f /s, %zu ops\n", name,
                rate, 1e6 / rate, double(n) / wall, n);
    return rate;
}

label make_label(std::size_t i) {
    label l;
    l.src = "did:plc:ar7c4by46qjdydhdevvrndac";
    l.uri = "did:plc:" + std::to_string(1000000000000000000ULL + i);
    l.val = i % 3 == 0 ? "daikichi" : (i % 3 == 1 ? "kichi" : "kyo");
    l.cts = "2026-11-29T10:41:51.304Z";
    return l;
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    const private_key key = private_key::generate();
    std::vector<label> labels;
    for (std::size_t i = 0; i < 1024; ++i) {
        labels.push_back(make_label(i));
        labels.back().sig = key.sign(signing_bytes(labels.back()));
    }
    std::vector<std::string> cbor;
    std::vector<std::string> unsigned_bytes;
    for (const auto& l : labels) {
        cbor.push_back(encode_cbor(l));
        unsigned_bytes.push_back(signing_bytes(l));
    }
    auto bytes = [](const std::string& s) {
        return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()),
                                             s.size());
    };

    std::printf("bench_labels: single thread, %.1f s per measurement, label ~%zu bytes CBOR\n",
                seconds, cbor[0].size());
    measure("sign label (encode+sha256+sign)", seconds, [&](std::size_t i) {
        const label& l = labels[i & 1023];
        return std::size_t(key.sign(signing_bytes(l))[0]);
    });
    measure("verify k256 (encode+verify)", seconds, [&](std::size_t i) {
        const label& l = labels[i & 1023];
        return std::size_t(verify(key.pub(), bytes(signing_bytes(l)), *l.sig));
    });
    // P-256: the interop fixture signature over {"hello":"world"}.
    const auto p256_key =
        *parse_did_key("did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo");
    const auto p256_msg = *base64_decode("oWVoZWxsb2V3b3JsZA");
    const auto p256_sig = *base64_decode(
        "2vZNsG3UKvvO/CDlrdvyZRISOFylinBh0Jupc6KcWoJWExHptCfduPleDbG3rko3YZnn9Lw0IjpixVmexJDegg");
    if (!verify(p256_key, p256_msg, p256_sig)) {
        std::fprintf(stderr, "p256 fixture does not verify\n");
        return 1;
    }
    measure("verify p256 (fixture signature)", seconds,
            [&](std::size_t) { return std::size_t(verify(p256_key, p256_msg, p256_sig)); });
    measure("encode_cbor (signed label)", seconds,
            [&](std::size_t i) { return encode_cbor(labels[i & 1023]).size(); });
    std::string buf;
    measure("append_cbor (reused buffer)", seconds, [&](std::size_t i) {
        buf.clear();
        append_cbor(buf, labels[i & 1023]);
        return buf.size();
    });
    measure("decode_cbor (signed label)", seconds,
            [&](std::size_t i) { return decode_cbor(cbor[i & 1023])->val.size(); });
    measure("to_json (signed label)", seconds,
            [&](std::size_t i) { return to_json(labels[i & 1023]).size(); });
    measure("append_json (reused buffer)", seconds, [&](std::size_t i) {
        buf.clear();
        append_json(buf, labels[i & 1023]);
        return buf.size();
    });
    measure("validate", seconds,
            [&](std::size_t i) { return std::size_t(validate(labels[i & 1023]).has_value()); });
    const auto t0 = std::chrono::system_clock::now();
    measure("format_datetime", seconds, [&](std::size_t i) {
        return format_datetime(t0 + std::chrono::milliseconds(i)).size();
    });
    return 0;
}
