// bench_codecs: throughput of the atproto codecs on the real firehose capture.
//   bench_codecs [path/to/firehose.bin] [seconds-per-case]
// Prints frames/s and MB/s for: DAG-CBOR frame decode alone; the full firehose path (frame +
// CAR parse with sha256 verification + record decode for every op); canonical encode of a
// label; CID to_string/parse; multikey decode. Single thread.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "src/atproto/car.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/cid.hpp"
#include "src/atproto/multikey.hpp"

using namespace labeler::atproto;
using clock_type = std::chrono::steady_clock;

namespace {

volatile std::size_t sink = 0;

template <class F>
void run(const char* name, double seconds, std::size_t items_per_call, std::size_t bytes_per_call,
         F&& f) {
    std::size_t calls = 0;
    const auto start = clock_type::now();
    double elapsed = 0;
    do {
        for (int i = 0; i < 16; ++i) f();
        calls += 16;
        elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    } while (elapsed < seconds);
    const double items = double(calls * items_per_call) / elapsed;
    std::printf("%-44s %12.0f /s", name, items);
    if (bytes_per_call) std::printf("  %8.1f MB/s", double(calls * bytes_per_call) / elapsed / 1e6);
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path default_path = std::filesystem::path(__FILE__).parent_path() /
                                               "../tests/fixtures/pds-firehose/firehose.bin";
    const std::string path = argc > 1 && argv[1][0] ? argv[1] : default_path.string();
    const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "bench_codecs: cannot read %s\n", path.c_str());
        return 1;
    }
    const std::string bin((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::string_view> frames;
    for (std::size_t pos = 0; pos + 4 <= bin.size();) {
        const auto* p = reinterpret_cast<const unsigned char*>(bin.data() + pos);
        const std::size_t len = std::size_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
        frames.emplace_back(bin.data() + pos + 4, len);
        pos += 4 + len;
    }
    std::size_t total = 0;
    for (auto fr : frames) total += fr.size();
    std::printf("%zu frames, %zu bytes (avg %.0f B/frame), %.1f s per case\n", frames.size(), total,
                double(total) / frames.size(), seconds);

    cbor::decoder dec;
    run("cbor decode_frame (frames)", seconds, frames.size(), total, [&] {
        for (auto fr : frames) {
            auto r = dec.decode_frame(fr);
            sink = sink + (r ? r->body.size() : 0);
        }
    });

    cbor::decoder rec;
    run("firehose path: frame+CAR(sha256)+records", seconds, frames.size(), total, [&] {
        for (auto fr : frames) {
            auto r = dec.decode_frame(fr);
            if (!r || r->header.get_text("t") != "#commit") continue;
            const auto* blocks = r->body.find("blocks");
            auto car = parse_car(blocks->as_bytes(), true);
            if (!car) std::abort();
            for (const auto& op : r->body.find("ops")->items()) {
                const auto* c = op.find("cid");
                if (!c || !c->is_link()) continue;
                const auto* b = car->find(c->as_link());
                if (b) sink = sink + rec.decode(b->data)->size();
            }
        }
    });

    run("firehose path without hash verification", seconds, frames.size(), total, [&] {
        for (auto fr : frames) {
            auto r = dec.decode_frame(fr);
            if (!r || r->header.get_text("t") != "#commit") continue;
            auto car = parse_car(r->body.find("blocks")->as_bytes(), false);
            sink = sink + car->blocks.size();
        }
    });

    const cbor::value kv[] = {
        cbor::value::text("ver"), cbor::value::integer(1),
        cbor::value::text("src"), cbor::value::text("did:plc:n3timvoib5nau7gvwd6cshap"),
        cbor::value::text("uri"), cbor::value::text("did:plc:44ybard66vv44zksje25o7dz"),
        cbor::value::text("val"), cbor::value::text("bladerunner"),
        cbor::value::text("cts"), cbor::value::text("2024-10-23T17:51:19.128Z"),
    };
    const cbor::value label = cbor::value::map(kv);  // unsorted: exercises the key sort
    run("cbor encode label (unsorted keys)", seconds, 1, 0,
        [&] { sink = sink + cbor::encode(label).size(); });

    const std::string cid_text = "bafyreidljzibtzabdxitc4b7cmsbrvoe2oidqlgpbzqda7ldyzqlwh2do4";
    const cid c = *cid::parse(cid_text);
    run("cid to_string", seconds, 1, 0, [&] { sink = sink + c.to_string().size(); });
    run("cid parse", seconds, 1, 0, [&] { sink = sink + cid::parse(cid_text)->bytes().size(); });
    run("decode_multikey", seconds, 1, 0, [&] {
        sink = sink +
               decode_multikey("zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC")->compressed[1];
    });
    return 0;
}
