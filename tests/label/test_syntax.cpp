// Syntax checks against the atproto interop fixtures plus label-value rules.
#include <catch2/catch.hpp>

#include "src/atproto/syntax.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
using labeler::test::fixture_lines;

namespace {

template <class F>
void check_fixture(const std::string& name, F valid) {
    for (const auto& s : fixture_lines("syntax/" + name + "_syntax_valid.txt")) {
        INFO(name << " should be valid: [" << s << "]");
        CHECK(valid(s));
    }
    for (const auto& s : fixture_lines("syntax/" + name + "_syntax_invalid.txt")) {
        INFO(name << " should be invalid: [" << s << "]");
        CHECK_FALSE(valid(s));
    }
}

}  // namespace

TEST_CASE("DID syntax follows the interop fixtures", "[syntax]") {
    check_fixture("did", is_valid_did);
    CHECK(is_valid_did("did:plc:n3timvoib5nau7gvwd6cshap"));
    CHECK_FALSE(is_valid_did("did:plc:"));
    CHECK_FALSE(is_valid_did(""));
    CHECK_FALSE(is_valid_did("did:plc:" + std::string(2041, 'a')));  // 2049 chars
    CHECK(is_valid_did("did:plc:" + std::string(2040, 'a')));        // 2048 chars
}

TEST_CASE("handle syntax follows the interop fixtures", "[syntax]") {
    check_fixture("handle", is_valid_handle);
}

TEST_CASE("AT-URI syntax follows the interop fixtures", "[syntax]") {
    check_fixture("aturi", is_valid_at_uri);
    CHECK(is_valid_at_uri(
        "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.graph.follow/3jzfcijpj2z2a"));
    CHECK_FALSE(is_valid_at_uri("at://did:plc:abc/app.bsky.graph.follow/x?q=1"));
}

TEST_CASE("NSID syntax follows the interop fixtures", "[syntax]") {
    check_fixture("nsid", is_valid_nsid);
    CHECK(is_valid_nsid("app.bsky.graph.follow"));
}

TEST_CASE("record key syntax follows the interop fixtures", "[syntax]") {
    check_fixture("recordkey", is_valid_record_key);
}

TEST_CASE("TID syntax follows the interop fixtures", "[syntax]") {
    check_fixture("tid", is_valid_tid);
}

TEST_CASE("CID string syntax follows the interop fixtures", "[syntax]") {
    check_fixture("cid", is_valid_cid);
    // base32 CIDs are decoded: a truncated digest or a wrong version is rejected.
    CHECK(is_valid_cid("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"));
    CHECK_FALSE(is_valid_cid("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3h"));
    CHECK_FALSE(is_valid_cid("baaaaaaaaaaaaaaaaaaa"));
    CHECK_FALSE(is_valid_cid("bAFYREIE5737GDXLW5I64VZICHCALBA3Z2V5N6ICIFVX5XYTVSKE7MR3HPM"));
}

TEST_CASE("custom label values are lowercase letters and inner hyphens", "[syntax]") {
    CHECK(is_valid_label_value("kichi"));
    CHECK(is_valid_label_value("dai-kichi"));
    CHECK(is_valid_label_value("a"));
    CHECK(is_valid_label_value(std::string(128, 'a')));
    CHECK_FALSE(is_valid_label_value(std::string(129, 'a')));
    CHECK_FALSE(is_valid_label_value(""));
    CHECK_FALSE(is_valid_label_value("-kichi"));
    CHECK_FALSE(is_valid_label_value("kichi-"));
    CHECK_FALSE(is_valid_label_value("Kichi"));
    CHECK_FALSE(is_valid_label_value("kichi2"));
    CHECK_FALSE(is_valid_label_value("!hide"));
    CHECK_FALSE(is_valid_label_value("ki chi"));
    CHECK_FALSE(is_valid_label_value("吉"));
}
