#include "src/atproto/car.hpp"

#include <fmt/format.h>

#include "src/atproto/cbor.hpp"
#include "src/atproto/varint.hpp"

namespace labeler::atproto {

const car_block* car_file::find(const cid& id) const noexcept {
    return find(id.bytes());
}

const car_block* car_file::find(std::span<const std::uint8_t> binary_cid) const noexcept {
    for (const auto& b : blocks) {
        if (b.id.equals_binary(binary_cid)) return &b;
    }
    return nullptr;
}

namespace {

result<std::vector<cid>> parse_header(std::span<const std::uint8_t> bytes) {
    thread_local cbor::decoder dec(
        cbor::limits{.max_depth = 4, .max_container_items = 1 << 16, .max_total_bytes = 1 << 20});
    auto v = dec.decode(bytes);
    if (!v) return fail("car: header: " + v.error().message);
    if (!v->is_map()) return fail("car: header is not a map");
    const auto version = v->find("version");
    if (!version || !version->is_int()) return fail("car: header has no integer 'version'");
    if (version->as_int() != 1) {
        return fail(fmt::format("car: unsupported version {} (only CAR v1)", version->as_int()));
    }
    const auto roots = v->find("roots");
    if (!roots || !roots->is_array()) return fail("car: header has no 'roots' array");
    if (v->size() != 2) return fail("car: header has keys other than 'roots' and 'version'");
    std::vector<cid> out;
    out.reserve(roots->size());
    for (const auto& r : roots->items()) {
        if (!r.is_link()) return fail("car: header root is not a CID link");
        auto c = r.as_cid();
        if (!c) return fail("car: header root: " + c.error().message);
        out.push_back(*c);
    }
    return out;
}

}  // namespace

result<car_file> parse_car(std::span<const std::uint8_t> in, bool verify_hashes) {
    const std::size_t total = in.size();
    auto off = [&] { return total - in.size(); };
    auto hlen = read_uvarint(in);
    if (!hlen) return fail("car: header length " + hlen.error().message);
    if (*hlen == 0) return fail("car: empty header");
    if (*hlen > in.size()) {
        return fail(
            fmt::format("car: truncated header ({} bytes declared, {} left)", *hlen, in.size()));
    }
    car_file car;
    auto roots = parse_header(in.first(*hlen));
    if (!roots) return roots.error();
    car.roots = std::move(*roots);
    in = in.subspan(*hlen);
    car.blocks.reserve(8);
    while (!in.empty()) {
        const std::size_t at = off();
        auto len = read_uvarint(in);
        if (!len)
            return fail(
                fmt::format("car: section at offset {}: length {}", at, len.error().message));
        if (*len == 0) return fail(fmt::format("car: empty section at offset {}", at));
        if (*len > in.size()) {
            return fail(
                fmt::format("car: truncated section at offset {} ({} bytes declared, {} left)", at,
                            *len, in.size()));
        }
        auto section = in.first(*len);
        in = in.subspan(*len);
        auto id = cid::parse_binary(section);
        if (!id) return fail(fmt::format("car: section at offset {}: {}", at, id.error().message));
        if (verify_hashes) {
            if (id->hash_code() != multihash_sha2_256) {
                return fail(fmt::format("car: block {} at offset {} uses unsupported hash 0x{:x}",
                                        id->to_string(), at, id->hash_code()));
            }
            if (!id->matches(section)) {
                return fail(fmt::format("car: block {} at offset {} does not match its hash",
                                        id->to_string(), at));
            }
        }
        car.blocks.push_back({*id, section});
    }
    return car;
}

}  // namespace labeler::atproto
