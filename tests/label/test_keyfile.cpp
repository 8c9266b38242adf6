// Key files: written 0600, never overwritten, refused when group/other-accessible or malformed;
// every error names the path.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "src/atproto/crypto.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "labels-keyfile-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(const fs::path& p, const std::string& content, mode_t mode) {
    {
        std::ofstream out(p, std::ios::binary);
        out << content;
    }
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

constexpr const char* hex_key = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";

}  // namespace

TEST_CASE("save_file writes hex with mode 0600 and load_file reads it back", "[keyfile]") {
    temp_dir dir;
    const fs::path p = dir.path / "signing.key";
    const private_key k = private_key::generate();
    REQUIRE(k.save_file(p));
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(labeler::test::read_text(p.string()) == k.to_hex() + "\n");
    auto back = private_key::load_file(p);
    REQUIRE(back);
    CHECK(back->to_hex() == k.to_hex());
    CHECK(back->did_key() == k.did_key());
}

TEST_CASE("save_file refuses to overwrite", "[keyfile]") {
    temp_dir dir;
    const fs::path p = dir.path / "signing.key";
    write_file(p, "precious", 0600);
    auto r = private_key::generate().save_file(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == int(key_errc::exists));
    CHECK_THAT(r.error().message, Catch::Contains(p.string()));
    CHECK(labeler::test::read_text(p.string()) == "precious");
}

TEST_CASE("load_file accepts surrounding whitespace and uppercase hex", "[keyfile]") {
    temp_dir dir;
    const fs::path p = dir.path / "k";
    write_file(p, "  \n" + std::string(hex_key) + "\r\n\n", 0600);
    auto k = private_key::load_file(p);
    REQUIRE(k);
    CHECK(k->did_key() == "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme");
    const fs::path q = dir.path / "k2";
    std::string upper(hex_key);
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    write_file(q, upper, 0400);
    CHECK(private_key::load_file(q));
}

TEST_CASE("load_file refuses group- or other-accessible files and suggests chmod 600",
          "[keyfile]") {
    temp_dir dir;
    for (mode_t mode : {0640, 0604, 0644, 0660, 0610}) {
        const fs::path p = dir.path / ("k" + std::to_string(mode));
        write_file(p, hex_key, mode);
        auto r = private_key::load_file(p);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(key_errc::permissions));
        CHECK_THAT(r.error().message, Catch::Contains("chmod 600"));
        CHECK_THAT(r.error().message, Catch::Contains(p.string()));
    }
}

TEST_CASE("load_file rejects malformed content, naming the path", "[keyfile]") {
    temp_dir dir;
    struct bad_case {
        const char* name;
        std::string content;
        key_errc code;
    };
    const bad_case cases[] = {
        {"empty", "", key_errc::bad_format},
        {"short", std::string(hex_key).substr(0, 62), key_errc::bad_format},
        {"long", std::string(hex_key) + "00", key_errc::bad_format},
        {"not-hex", std::string(hex_key).substr(0, 63) + "x", key_errc::bad_format},
        {"inner-space", std::string(hex_key).substr(0, 32) + " " + std::string(hex_key).substr(32),
         key_errc::bad_format},
        {"zero", std::string(64, '0'), key_errc::bad_scalar},
        {"order", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
         key_errc::bad_scalar},
        {"huge", std::string(10000, 'a'), key_errc::bad_format},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const fs::path p = dir.path / c.name;
        write_file(p, c.content, 0600);
        auto r = private_key::load_file(p);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(c.code));
        CHECK_THAT(r.error().message, Catch::Contains(p.string()));
    }
}

TEST_CASE("load_file reports a missing file and a directory", "[keyfile]") {
    temp_dir dir;
    const fs::path missing = dir.path / "nope.key";
    auto r = private_key::load_file(missing);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == int(key_errc::missing));
    CHECK_THAT(r.error().message, Catch::Contains(missing.string()));
    CHECK_THAT(r.error().message, Catch::Contains("keygen"));
    const fs::path sub = dir.path / "sub";
    fs::create_directory(sub);
    fs::permissions(sub, fs::perms::owner_all);
    auto d = private_key::load_file(sub);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == int(key_errc::not_regular));
    CHECK_THAT(d.error().message, Catch::Contains(sub.string()));
}
