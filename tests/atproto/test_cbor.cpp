#include <cbor.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "src/atproto/base64.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/cid.hpp"
#include "tests/atproto/json_value.hpp"
#include "tests/atproto/random_value.hpp"
#include "tests/atproto/test_util.hpp"

using namespace labeler::atproto;
using cbor::value;
using labeler::test::hex;
using labeler::test::unhex;

namespace {

std::string bin(std::string_view hexstr) {
    auto b = unhex(hexstr);
    return {b.begin(), b.end()};
}

// Decodes `hexstr` and expects an error whose message contains `needle`.
void expect_reject(std::string_view hexstr, std::string_view needle, cbor::decode_errc code,
                   cbor::limits lim = {}) {
    cbor::decoder dec(lim);
    const std::string in = bin(hexstr);
    auto r = dec.decode(in);
    INFO("input " << hexstr);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    CHECK(r.error().code == int(code));
}

std::string reencode(std::string_view hexstr) {
    cbor::decoder dec;
    const std::string in = bin(hexstr);
    auto r = dec.decode(in);
    REQUIRE(r);
    return hex(cbor::encode(*r));
}

}  // namespace

TEST_CASE("protocol.md §2 label bytes come out of encode()", "[cbor][golden]") {
    const value kv[] = {
        value::text("ver"), value::integer(1),
        value::text("src"), value::text("did:plc:n3timvoib5nau7gvwd6cshap"),
        value::text("uri"), value::text("did:plc:44ybard66vv44zksje25o7dz"),
        value::text("val"), value::text("bladerunner"),
        value::text("cts"), value::text("2024-10-23T17:51:19.128Z"),
    };
    const std::string expected =
        "a5"
        "63637473"
        "7818"
        "323032342d31302d32335431373a35313a31392e3132385a"
        "63737263"
        "7820"
        "6469643a706c633a6e3374696d766f6962356e61753767767764366373686170"
        "63757269"
        "7820"
        "6469643a706c633a343479626172643636767634347a6b736a6532356f37647a"
        "6376616c"
        "6b"
        "626c61646572756e6e6572"
        "63766572"
        "01";
    const std::string enc = cbor::encode(value::map(kv));
    CHECK(hex(enc) == expected);
    CHECK(hex(sha256(enc)) == "a133884893b7a7e4a21c44b9708b0d3cb9c2fff041f12b6ec52ff92fad6b5ad7");

    cbor::decoder dec;
    auto d = dec.decode(enc);
    REQUIRE(d);
    CHECK(d->get_text("src") == "did:plc:n3timvoib5nau7gvwd6cshap");
    CHECK(d->get_int("ver") == 1);
    CHECK(d->get_text("cts") == "2024-10-23T17:51:19.128Z");
    CHECK_FALSE(d->has("neg"));
    CHECK(d->entries()[0].key == "cts");
}

TEST_CASE("protocol.md §5 frame headers encode and decode as frames", "[cbor][golden]") {
    const value labels[] = {value::text("op"), value::integer(1), value::text("t"),
                            value::text("#labels")};
    CHECK(hex(cbor::encode(value::map(labels))) == "a2617467236c6162656c73626f7001");
    const value info[] = {value::text("t"), value::text("#info"), value::text("op"),
                          value::integer(1)};
    CHECK(hex(cbor::encode(value::map(info))) ==
          "a2617465"
          "23696e666f"
          "626f7001");
    const value err[] = {value::text("op"), value::integer(-1)};
    CHECK(hex(cbor::encode(value::map(err))) == "a1626f7020");
    const value body[] = {value::text("name"), value::text("OutdatedCursor")};
    CHECK(hex(cbor::encode(value::map(body))) == "a1646e616d656e4f75746461746564437572736f72");

    const std::string fr = bin("a1626f7020") + bin("a1646e616d656e4f75746461746564437572736f72");
    cbor::decoder dec;
    auto f = dec.decode_frame(fr);
    REQUIRE(f);
    CHECK(f->header.get_int("op") == -1);
    CHECK(f->body.get_text("name") == "OutdatedCursor");
    // decode() insists on a single item.
    auto one = dec.decode(fr);
    REQUIRE_FALSE(one);
    CHECK(one.error().code == int(cbor::decode_errc::trailing_bytes));
    CHECK_THAT(one.error().message, Catch::Contains("offset 5"));
    // decode_prefix() reports the consumed length.
    auto p = dec.decode_prefix(labeler::test::as_bytes(fr));
    REQUIRE(p);
    CHECK(p->consumed == 5);
    // A frame with trailing garbage is rejected.
    CHECK_FALSE(dec.decode_frame(fr + "\x01"));
}

TEST_CASE("scalars: integer boundaries, shortest heads, simple values", "[cbor]") {
    CHECK(reencode("00") == "00");
    CHECK(reencode("17") == "17");
    CHECK(reencode("1818") == "1818");
    CHECK(reencode("19ffff") == "19ffff");
    CHECK(reencode("1b7fffffffffffffff") == "1b7fffffffffffffff");
    CHECK(reencode("3b7fffffffffffffff") == "3b7fffffffffffffff");
    CHECK(reencode("20") == "20");
    CHECK(reencode("f4") == "f4");
    CHECK(reencode("f5") == "f5");
    CHECK(reencode("f6") == "f6");
    cbor::decoder dec;
    CHECK(dec.decode(bin("3b7fffffffffffffff"))->as_int() == INT64_MIN);
    CHECK(dec.decode(bin("1b7fffffffffffffff"))->as_int() == INT64_MAX);
    CHECK(dec.decode(bin("f6"))->is_null());
    CHECK(dec.decode(bin("f5"))->as_bool());
    for (std::int64_t v : std::initializer_list<std::int64_t>{
             0ll, 23ll, 24ll, 255ll, 256ll, 65535ll, 65536ll, 4294967295ll, 4294967296ll, -1ll,
             -24ll, -25ll, -256ll, -257ll, INT64_MIN, INT64_MAX}) {
        auto enc = cbor::encode(value::integer(v));
        auto d = dec.decode(enc);
        REQUIRE(d);
        CHECK(d->as_int() == v);
    }
}

TEST_CASE("rejects non-DAG-CBOR encodings with offsets", "[cbor][reject]") {
    using E = cbor::decode_errc;
    expect_reject("", "unexpected end of input at offset 0", E::truncated);
    expect_reject("1817", "shortest form", E::non_shortest);
    expect_reject("190017", "shortest form", E::non_shortest);
    expect_reject("1a0000ffff", "shortest form", E::non_shortest);
    expect_reject("1b00000000ffffffff", "shortest form", E::non_shortest);
    expect_reject("5800", "shortest form", E::non_shortest);
    expect_reject(
        "8200"
        "1801",
        "shortest form", E::non_shortest);
    expect_reject("1b8000000000000000", "outside int64", E::int_range);
    expect_reject("3b8000000000000000", "outside int64", E::int_range);
    expect_reject("19ff", "truncated", E::truncated);
    expect_reject(
        "63616263"
        "64",
        "trailing", E::trailing_bytes);
    expect_reject("6461", "truncated text string (4 bytes declared, 1 left) at offset 0",
                  E::truncated);
    expect_reject("82010203", "1 trailing bytes after the item at offset 3", E::trailing_bytes);
    expect_reject("8301", "truncated array", E::truncated);
    expect_reject("9fff", "indefinite-length array", E::indefinite_length);
    expect_reject("5f40ff", "indefinite-length byte string", E::indefinite_length);
    expect_reject("7f60ff", "indefinite-length text string", E::indefinite_length);
    expect_reject("bf6161f5ff", "indefinite-length map", E::indefinite_length);
    expect_reject("ff", "break", E::indefinite_length);
    expect_reject("1c", "reserved additional info 28", E::reserved_info);
    expect_reject("f93c00", "floats are not allowed (16-bit)", E::float_value);
    expect_reject("fa3f800000", "floats are not allowed (32-bit)", E::float_value);
    expect_reject("fb3ff0000000000000", "floats are not allowed (64-bit)", E::float_value);
    expect_reject("a16161fb3ff0000000000000", "at offset 3", E::float_value);
    expect_reject("f7", "undefined", E::bad_simple);
    expect_reject("f0", "simple value 16", E::bad_simple);
    expect_reject("f820", "simple value 32", E::bad_simple);
    expect_reject("c074323031332d30332d32315432303a30343a30305a", "tag 0 is not allowed",
                  E::bad_tag);
    expect_reject("d82b4100", "tag 43", E::bad_tag);
    expect_reject("d82a6100", "not a byte string", E::bad_tag);
    expect_reject("d82a4101", "0x00 multibase prefix", E::bad_tag);
    expect_reject("d82a40", "0x00 multibase prefix", E::bad_tag);
    expect_reject("d82a4400017112", "invalid CID link", E::bad_tag);
    expect_reject(
        "d82a5823"
        "00"
        "1220" +
            std::string(64, 'a'),
        "CIDv0", E::bad_tag);
    expect_reject(
        "d82a5827"
        "00"
        "01711220" +
            std::string(64, 'a') + "0000",
        "2 trailing bytes", E::bad_tag);
    expect_reject("a10102", "map key is a unsigned integer, not a text string at offset 1",
                  E::bad_key);
    expect_reject("a2616201616101", "map key \"a\" is out of order", E::bad_key);
    expect_reject(
        "a2626161016162"
        "02",
        "out of order", E::bad_key);  // length-first
    expect_reject(
        "a26161016161"
        "02",
        "duplicate map key \"a\" at offset 4", E::bad_key);
    expect_reject("62c328", "invalid UTF-8", E::bad_utf8);
    expect_reject("62c0af", "invalid UTF-8", E::bad_utf8);      // overlong
    expect_reject("63eda080", "invalid UTF-8", E::bad_utf8);    // surrogate
    expect_reject("64f4908080", "invalid UTF-8", E::bad_utf8);  // > U+10FFFF
    expect_reject("a162c3280a", "invalid UTF-8", E::bad_utf8);  // in a key
    expect_reject(
        "9a00200000"
        "00",
        "array of 2097152 items exceeds the limit", E::limit);
    expect_reject(
        "99ffff"
        "00",
        "truncated array (65535 items declared, 1 bytes left)", E::truncated);
    expect_reject(
        "b9ffff"
        "00",
        "truncated map", E::truncated);
}

TEST_CASE("valid UTF-8 of every length is accepted", "[cbor]") {
    cbor::decoder dec;
    const std::string s =
        "a~\xc3\xb6\xc3\xb1\xc2\xa9\xe2\xbd\x98\xe2\x98\x8e\xf0\x93\x8b\x93"
        "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
    auto enc = cbor::encode(value::text(s));
    auto d = dec.decode(enc);
    REQUIRE(d);
    CHECK(d->as_text() == s);
    CHECK(cbor::valid_utf8("plain ascii that is longer than eight bytes"));
    CHECK_FALSE(cbor::valid_utf8("ascii then bad \xff"));
    CHECK_FALSE(cbor::valid_utf8("\xe2\x98"));
}

TEST_CASE("nesting depth and item limits", "[cbor][limits]") {
    cbor::decoder dec;
    auto nested = [](int depth) { return std::string(depth, '\x81') + '\x00'; };
    CHECK(dec.decode(nested(32)));
    auto deep = dec.decode(nested(33));
    REQUIRE_FALSE(deep);
    CHECK_THAT(deep.error().message, Catch::Contains("nesting deeper than 32 at offset 32"));
    // Even a very deep input fails cleanly (no stack overflow).
    CHECK_FALSE(dec.decode(nested(100000)));
    std::string maps;
    for (int i = 0; i < 40; ++i) maps += "\xa1\x61\x61";
    maps += '\x00';
    CHECK_FALSE(dec.decode(maps));

    cbor::decoder small({.max_depth = 2, .max_container_items = 3, .max_total_bytes = 16});
    CHECK(small.decode(bin("8281008100")));
    CHECK_FALSE(
        small.decode(bin("83818100"
                         "0000")));
    auto many = small.decode(bin("8400000000"));
    REQUIRE_FALSE(many);
    CHECK_THAT(many.error().message, Catch::Contains("array of 4 items exceeds the limit of 3"));
    auto big = small.decode(std::string(17, '\0'));
    REQUIRE_FALSE(big);
    CHECK_THAT(big.error().message, Catch::Contains("17 bytes exceeds the limit of 16"));
}

TEST_CASE("encode sorts map keys length-first and round-trips", "[cbor]") {
    const value inner[] = {value::text("zz"), value::integer(2), value::text("b"), value::null()};
    const value items[] = {value::integer(-5), value::bytes(std::string_view("\x01\x02", 2)),
                           value::map(inner)};
    const value kv[] = {
        value::text("labels"), value::array(items),   value::text("seq"), value::integer(7),
        value::text("t"),      value::boolean(false), value::text("aa"),  value::text(""),
    };
    const std::string enc = cbor::encode(value::map(kv));
    cbor::decoder dec;
    auto d = dec.decode(enc);
    REQUIRE(d);
    std::vector<std::string_view> keys;
    for (auto [k, v] : d->entries()) keys.push_back(k);
    CHECK(keys == std::vector<std::string_view>{"t", "aa", "seq", "labels"});
    CHECK(d->get_int("seq") == 7);
    CHECK(d->get_bool("t") == false);
    CHECK(d->get_text("aa") == "");
    const value* labels = d->find("labels");
    REQUIRE(labels);
    REQUIRE(labels->items().size() == 3);
    CHECK(labels->items()[0].as_int() == -5);
    CHECK(labels->items()[1].size() == 2);
    CHECK(labels->items()[2].find("b")->is_null());
    CHECK(labels->items()[2].entries()[0].key == "b");
    CHECK(cbor::encode(*d) == enc);
    // Wrong-kind access is harmless.
    CHECK(d->find("seq")->as_text().empty());
    CHECK(d->find("nope") == nullptr);
    CHECK(labels->find("x") == nullptr);
    CHECK_FALSE(d->get_text("seq"));
}

TEST_CASE("interop data-model fixtures: JSON -> DAG-CBOR bytes -> CID", "[cbor][golden]") {
    const std::string text =
        labeler::test::slurp(LABELER_SOURCE_DIR "/tests/atproto/data/data-model-fixtures.json");
    REQUIRE_FALSE(text.empty());
    const auto fixtures = boost::json::parse(text).as_array();
    REQUIRE(fixtures.size() == 3);
    cbor::decoder dec;
    for (const auto& f : fixtures) {
        labeler::test::json_builder jb;
        const value v = jb.build(f.at("json"));
        auto expected = base64_decode(f.at("cbor_base64").as_string());
        REQUIRE(expected);
        const std::string enc = cbor::encode(v);
        CHECK(hex(enc) == hex(*expected));
        CHECK(cid::compute(labeler::test::as_bytes(enc)).to_string() == f.at("cid").as_string());
        auto d = dec.decode(*expected);
        REQUIRE(d);
        CHECK(cbor::encode(*d) == enc);
    }
}

TEST_CASE("interop data-model valid fixtures round-trip", "[cbor]") {
    const std::string text =
        labeler::test::slurp(LABELER_SOURCE_DIR "/tests/atproto/data/data-model-valid.json");
    REQUIRE_FALSE(text.empty());
    cbor::decoder dec;
    int n = 0;
    const boost::json::value doc = boost::json::parse(text);
    for (const auto& f : doc.as_array()) {
        labeler::test::json_builder jb;
        value v;
        try {
            v = jb.build(f.at("json"));
        } catch (const std::runtime_error&) {
            continue;  // "float, but integer-like": JSON-level case, no CBOR form
        }
        const std::string enc = cbor::encode(v);
        auto d = dec.decode(enc);
        REQUIRE(d);
        CHECK(cbor::encode(*d) == enc);
        ++n;
    }
    CHECK(n == 4);
}

// ---------------------------------------------------------------------------------------------
// Cross-check against libcbor, an independent decoder.

namespace {

bool same(const cbor_item_t* it, const value& v) {
    switch (v.type()) {
        case cbor::kind::null:
            return cbor_is_null(it);
        case cbor::kind::boolean:
            return cbor_is_bool(it) && cbor_get_bool(it) == v.as_bool();
        case cbor::kind::integer: {
            if (cbor_isa_uint(it))
                return v.as_int() >= 0 && cbor_get_int(it) == std::uint64_t(v.as_int());
            if (cbor_isa_negint(it))
                return v.as_int() < 0 && cbor_get_int(it) == std::uint64_t(-1 - v.as_int());
            return false;
        }
        case cbor::kind::bytes:
            return cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it) &&
                   cbor_bytestring_length(it) == v.size() &&
                   std::equal(v.as_bytes().begin(), v.as_bytes().end(), cbor_bytestring_handle(it));
        case cbor::kind::text:
            return cbor_isa_string(it) && cbor_string_is_definite(it) &&
                   std::string_view(reinterpret_cast<const char*>(cbor_string_handle(it)),
                                    cbor_string_length(it)) == v.as_text();
        case cbor::kind::link: {
            if (!cbor_isa_tag(it) || cbor_tag_value(it) != 42) return false;
            cbor_item_t* inner = cbor_tag_item(it);
            const bool ok = cbor_isa_bytestring(inner) &&
                            cbor_bytestring_length(inner) == v.size() + 1 &&
                            cbor_bytestring_handle(inner)[0] == 0 &&
                            std::equal(v.as_link().begin(), v.as_link().end(),
                                       cbor_bytestring_handle(inner) + 1);
            cbor_decref(&inner);
            return ok;
        }
        case cbor::kind::array: {
            if (!cbor_isa_array(it) || cbor_array_size(it) != v.size()) return false;
            for (std::size_t i = 0; i < v.size(); ++i) {
                cbor_item_t* e = cbor_array_get(it, i);
                const bool ok = same(e, v.items()[i]);
                cbor_decref(&e);
                if (!ok) return false;
            }
            return true;
        }
        case cbor::kind::map: {
            if (!cbor_isa_map(it) || cbor_map_size(it) != v.size()) return false;
            const cbor_pair* pairs = cbor_map_handle(it);
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (!same(pairs[i].key, value::text(v.entries()[i].key))) return false;
                if (!same(pairs[i].value, v.entries()[i].val)) return false;
            }
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("encoder output is read back identically by libcbor", "[cbor][libcbor]") {
    labeler::test::value_generator gen;
    cbor::decoder dec;
    for (int round = 0; round < 500; ++round) {
        const value v = gen.make(0);
        const std::string enc = cbor::encode(v);
        auto ours = dec.decode(enc);
        REQUIRE(ours);
        CHECK(cbor::encode(*ours) == enc);  // canonical: re-encoding is a fixed point

        cbor_load_result res;
        cbor_item_t* item =
            cbor_load(reinterpret_cast<const unsigned char*>(enc.data()), enc.size(), &res);
        REQUIRE(item != nullptr);
        CHECK(res.error.code == CBOR_ERR_NONE);
        CHECK(res.read == enc.size());
        CHECK(same(item, *ours));
        cbor_decref(&item);
    }
}

TEST_CASE("decoder reuse: decode recycles, decode_prefix appends", "[cbor]") {
    cbor::decoder dec;
    const std::string a = bin("83010203");
    const std::string b = bin("82f5f4");
    auto pa = dec.decode_prefix(labeler::test::as_bytes(a));
    auto pb = dec.decode_prefix(labeler::test::as_bytes(b));
    REQUIRE(pa);
    REQUIRE(pb);
    CHECK(pa->item.items()[2].as_int() == 3);  // still valid after the second prefix
    CHECK(pb->item.items()[0].as_bool());
    for (int i = 0; i < 1000; ++i) {
        auto v = dec.decode(a);
        REQUIRE(v);
        CHECK(v->items()[1].as_int() == 2);
    }
    dec.release();
    CHECK(dec.decode(b));
}

TEST_CASE("writer: shortest heads at every boundary, links, raw", "[cbor][writer]") {
    auto head = [](cbor::major m, std::uint64_t v) {
        std::string out;
        cbor::writer(out).head(m, v);
        return hex(out);
    };
    CHECK(head(cbor::major_uint, 23) == "17");
    CHECK(head(cbor::major_uint, 24) == "1818");
    CHECK(head(cbor::major_uint, 255) == "18ff");
    CHECK(head(cbor::major_uint, 256) == "190100");
    CHECK(head(cbor::major_uint, 65535) == "19ffff");
    CHECK(head(cbor::major_uint, 65536) == "1a00010000");
    CHECK(head(cbor::major_uint, 0xffffffffull) == "1affffffff");
    CHECK(head(cbor::major_uint, 0x100000000ull) == "1b0000000100000000");
    CHECK(head(cbor::major_text, 5) == "65");
    CHECK(head(cbor::major_map, 24) == "b818");
    CHECK(head(cbor::major_tag, 42) == "d82a");

    std::string out;
    cbor::writer w(out);
    const cid c = cid::compute(labeler::test::as_bytes("x"));
    w.map(2);
    w.text("a");
    w.link(c.bytes());
    w.text("b");
    w.int64(INT64_MIN);
    CHECK(hex(out).substr(0, 16) == "a26161d82a582500");
    cbor::decoder dec;
    auto d = dec.decode(out);
    REQUIRE(d);
    REQUIRE(d->find("a")->is_link());
    CHECK(*d->find("a")->as_cid() == c);
    CHECK(d->get_int("b") == INT64_MIN);
    std::string copy;
    cbor::writer(copy).raw(out);
    CHECK(copy == out);
}
