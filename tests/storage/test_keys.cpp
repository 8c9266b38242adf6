#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "storage/keys.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler::storage;
using namespace std::string_literals;

TEST_CASE("be8 is big-endian so byte order is numeric order", "[storage][keys]") {
    CHECK(keys::be8(0) == "\0\0\0\0\0\0\0\0"s);
    CHECK(keys::be8(0x0102030405060708ull) == "\x01\x02\x03\x04\x05\x06\x07\x08"s);
    std::vector<std::uint64_t> nums{0, 1, 255, 256, 65535, 1ull << 40, UINT64_MAX};
    for (std::size_t i = 0; i + 1 < nums.size(); ++i)
        CHECK(keys::be8(nums[i]) < keys::be8(nums[i + 1]));
    for (auto n : nums) CHECK(keys::read_be8(keys::be8(n)) == n);
    CHECK_FALSE(keys::read_be8("short"));
    CHECK_FALSE(keys::read_be8("123456789"));
}

TEST_CASE("name+seq keys sort by name, then seq, and split back", "[storage][keys]") {
    auto a = keys::name_seq("did:plc:a", 7);
    CHECK(a == "did:plc:a\0\0\0\0\0\0\0\0\x07"s);
    auto p = keys::split_name_seq(a);
    REQUIRE(p);
    CHECK(p->first == "did:plc:a");
    CHECK(p->second == 7);
    // All keys of an exact URI come before keys of longer URIs that extend it.
    CHECK(keys::name_seq("did:plc:a", UINT64_MAX) < keys::name_seq("did:plc:a/x", 0));
    CHECK(keys::name_seq("did:plc:a", 1) < keys::name_seq("did:plc:a", 2));
    CHECK_FALSE(keys::split_name_seq("short"));
    CHECK_FALSE(keys::split_name_seq("abcdefghijk"));  // no separator before the seq
}

TEST_CASE("follow keys: follower + NUL + rkey", "[storage][keys]") {
    auto k = keys::follow_key("did:plc:f", "3kabc");
    CHECK(k == "did:plc:f\0003kabc"s);
    auto p = keys::split_follow_key(k);
    REQUIRE(p);
    CHECK(p->first == "did:plc:f");
    CHECK(p->second == "3kabc");
    CHECK(k.starts_with(keys::follow_prefix("did:plc:f")));
    CHECK_FALSE(k.starts_with(keys::follow_prefix("did:plc:")));
    CHECK_FALSE(keys::split_follow_key("no-separator"));
    auto cv = keys::current_value("at://did:plc:x/app.bsky.feed.post/1", "did:plc:src");
    auto c = keys::split_current(cv);
    REQUIRE(c);
    CHECK(c->first == "at://did:plc:x/app.bsky.feed.post/1");
    CHECK(c->second == "did:plc:src");
}

TEST_CASE("key_safe rejects NUL bytes", "[storage][keys]") {
    CHECK(keys::key_safe("did:plc:abc"));
    CHECK(keys::key_safe(""));
    CHECK_FALSE(keys::key_safe("did:plc:a\0b"s));
}

TEST_CASE("prefix_successor bounds the prefix range exactly", "[storage][keys]") {
    CHECK(keys::prefix_successor("abc") == "abd");
    CHECK(keys::prefix_successor("ab\xff"s) == "ac");
    CHECK_FALSE(keys::prefix_successor(""));
    CHECK_FALSE(keys::prefix_successor("\xff\xff"s));
    // Every string starting with the prefix is inside [prefix, successor); others are not.
    std::string prefix = "did:plc:A_%";
    auto hi = *keys::prefix_successor(prefix);
    for (std::string s : {"did:plc:A_%"s, "did:plc:A_%x"s, "did:plc:A_%\xff\xff"s})
        CHECK((s >= prefix && s < hi));
    for (std::string s : {"did:plc:A_", "did:plc:a_%", "did:plc:AX%", "did:plc:A_&"})
        CHECK_FALSE((s >= prefix && s < hi));
}

TEST_CASE("state records round-trip and corrupt ones name the subject", "[storage][keys]") {
    subject_state st;
    st.labels.push_back({"daikichi", 12, "2026-11-29T10:00:00.000Z", false, std::nullopt});
    st.labels.push_back({"kyo", 1ull << 40, "2026-11-29T11:00:00.000Z", true,
                         std::string("2027-01-01T00:00:00.000Z")});
    auto enc = keys::encode_state(st);
    auto dec = keys::decode_state(enc, "did:plc:x");
    REQUIRE(dec);
    REQUIRE(dec->labels.size() == 2);
    CHECK(dec->labels[0].val == "daikichi");
    CHECK(dec->labels[0].seq == 12);
    CHECK_FALSE(dec->labels[0].neg);
    CHECK_FALSE(dec->labels[0].exp);
    CHECK(dec->labels[1].seq == (1ull << 40));
    CHECK(dec->labels[1].neg);
    CHECK(dec->labels[1].exp == "2027-01-01T00:00:00.000Z");
    CHECK(dec->held().size() == 1);

    CHECK(keys::decode_state(keys::encode_state({}), "k")->labels.empty());

    // Every truncation and a trailing byte are refused with a message naming the key.
    for (std::size_t n = 0; n < enc.size(); ++n) {
        auto bad = keys::decode_state(enc.substr(0, n), "did:plc:broken");
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == int(store_errc::corrupt));
        CHECK(bad.error().message.find("did:plc:broken") != std::string::npos);
    }
    CHECK_FALSE(keys::decode_state(enc + "x", "k"));
    auto v9 = enc;
    v9[0] = 9;
    CHECK_FALSE(keys::decode_state(v9, "k"));
    // A huge count cannot make the decoder allocate or read out of bounds.
    CHECK_FALSE(keys::decode_state("\x01\xff\xff\xff\xff\x0f"s, "k"));
}

TEST_CASE("state records keep follow records and the account status", "[storage][keys]") {
    subject_state st;
    st.labels.push_back({"kichi", 7, "2026-11-29T10:00:00.000Z", false, std::nullopt});
    st.follows = {{"3laaa", "did:plc:labeler"}, {"3lbbb", "did:plc:labeler"}};
    st.account = account_status::takendown;
    auto enc = keys::encode_state(st);
    CHECK(enc[0] == 2);
    auto dec = keys::decode_state(enc, "did:plc:x");
    REQUIRE(dec);
    CHECK(dec->labels.size() == 1);
    CHECK(dec->follows == st.follows);
    CHECK(dec->account == account_status::takendown);
    CHECK_FALSE(dec->empty());
    // Labels only (queries): the rest is checked, not kept.
    auto lab = keys::decode_state(enc, "did:plc:x", keys::state_parts::labels);
    REQUIRE(lab);
    CHECK(lab->labels.size() == 1);
    CHECK(lab->follows.empty());
    for (std::size_t n = 0; n < enc.size(); ++n) {
        CHECK_FALSE(keys::decode_state(enc.substr(0, n), "did:plc:x"));
        CHECK_FALSE(keys::decode_state(enc.substr(0, n), "did:plc:x", keys::state_parts::labels));
    }
    // Follow records out of order, an empty rkey, an unknown status: refused.
    subject_state unordered = st;
    std::swap(unordered.follows[0], unordered.follows[1]);
    CHECK_FALSE(keys::decode_state(keys::encode_state(unordered), "k"));
    subject_state no_rkey = st;
    no_rkey.follows[0].rkey.clear();
    CHECK_FALSE(keys::decode_state(keys::encode_state(no_rkey), "k"));
    auto bad_status = enc;
    // the status byte follows the one label: 1 + 1 + (1+5) + 1 + (1+24) + 1
    const std::size_t at = 1 + 1 + 6 + 1 + 25 + 1;
    REQUIRE(bad_status[at] == char(account_status::takendown));
    bad_status[at] = 9;
    CHECK_FALSE(keys::decode_state(bad_status, "k"));
    CHECK(subject_state{}.empty());

    // Version 1 (schema 2) records hold labels only, and still decode.
    std::string v1 = "\x01\x01"s + "\x05kichi" + "\x07" + "\x18" + "2026-11-29T10:00:00.000Z" + "\x00"s;
    auto old = keys::decode_state(v1, "did:plc:x");
    REQUIRE(old);
    REQUIRE(old->labels.size() == 1);
    CHECK(old->labels[0].seq == 7);
    CHECK(old->follows.empty());
    CHECK(old->account == account_status::active);
}

TEST_CASE("stamps round-trip; garbage is refused", "[storage][keys]") {
    stamp s{"production", "did:plc:aaa", "did:key:zQ3sabc"};
    auto d = keys::decode_stamp(keys::encode_stamp(s));
    REQUIRE(d);
    CHECK(d->environment == "production");
    CHECK(d->labeler_did == "did:plc:aaa");
    CHECK(d->key_fingerprint == "did:key:zQ3sabc");
    CHECK_FALSE(keys::decode_stamp(""));
    CHECK_FALSE(keys::decode_stamp(keys::encode_stamp(s) + "!"));
}
