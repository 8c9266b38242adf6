// check_isolation: profiles that would share state, keys or a port are caught.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "src/atproto/crypto.hpp"
#include "src/config/profile.hpp"

using namespace labeler::config;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        char tmpl[] = "/tmp/config-isolation-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

profile make(const fs::path& dir, const std::string& env, std::uint16_t port) {
    profile p;
    p.file = dir / (env + ".toml");
    p.environment = env;
    p.labeler_did = "did:plc:" + env + std::string(24 - env.size(), 'a');
    p.signing_key_file = dir / "keys" / (env + ".key");
    p.storage.path = dir / "data" / env;
    p.server.host = "127.0.0.1";
    p.server.port = port;
    return p;
}

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
    for (auto& l : lines)
        if (l.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("the shipped profiles are isolated from one another") {
    const fs::path root = LABELER_SOURCE_DIR;
    std::vector<profile> all;
    for (const char* env : {"development", "staging", "production"}) {
        auto r = load_profile(root / "config" / (std::string(env) + ".toml"));
        REQUIRE(r.has_value());
        all.push_back(*r);
    }
    auto report = check_isolation(all);
    INFO(report.problems.size() << " problems; first: "
                                << (report.problems.empty() ? "" : report.problems[0]));
    CHECK(report.ok());
    CHECK(report.warnings.empty());
}

TEST_CASE("distinct profiles pass") {
    temp_dir t;
    auto report = check_isolation({make(t.path, "dev", 8080), make(t.path, "prod", 8081)});
    CHECK(report.ok());
    CHECK(report.warnings.empty());
    CHECK(check_isolation({}).ok());
    CHECK(check_isolation({make(t.path, "dev", 8080)}).ok());
}

TEST_CASE("a shared environment name is a problem") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "prod", 8081);
    b.environment = "dev";
    auto report = check_isolation({a, b});
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0] ==
          a.file.string() + " and " + b.file.string() + ": both use environment \"dev\"");
}

TEST_CASE("equal or nested storage paths are problems") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "prod", 8081);
    SECTION("same path written differently") {
        b.storage.path = t.path / "data" / "." / "x" / ".." / "dev";
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("both use storage.path") != std::string::npos);
    }
    SECTION("same path through a symlink") {
        fs::create_directories(t.path / "data" / "dev");
        fs::create_directory_symlink(t.path / "data", t.path / "link");
        b.storage.path = t.path / "link" / "dev";
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("both use storage.path") != std::string::npos);
    }
    SECTION("trailing slash") {
        b.storage.path = (t.path / "data" / "dev").string() + "/";
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("both use storage.path") != std::string::npos);
    }
    SECTION("one inside the other") {
        b.storage.path = t.path / "data" / "dev" / "nested";
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("lies inside") != std::string::npos);
        auto reverse = check_isolation({b, a});
        REQUIRE(reverse.problems.size() == 1);
        CHECK(reverse.problems[0].find("lies inside") != std::string::npos);
    }
    SECTION("a common name prefix is not nesting") {
        b.storage.path = t.path / "data" / "dev2";
        CHECK(check_isolation({a, b}).ok());
    }
    SECTION("relative and absolute forms of the same path") {
        auto cwd = fs::current_path();
        fs::current_path(t.path);
        a.storage.path = "data/dev";
        auto report = check_isolation({a, b});
        b.storage.path = "./data/prod/../dev";
        auto report2 = check_isolation({a, b});
        fs::current_path(cwd);
        CHECK(report.ok());
        REQUIRE(report2.problems.size() == 1);
        CHECK(report2.problems[0].find("both use storage.path") != std::string::npos);
    }
}

TEST_CASE("shared signing key files or keys are problems") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "prod", 8081);
    fs::create_directories(t.path / "keys");
    SECTION("same file, not created yet") {
        b.signing_key_file = a.signing_key_file;
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("both use labeler.signing_key_file") != std::string::npos);
    }
    SECTION("two files holding the same key") {
        auto key = labeler::atproto::private_key::generate();
        REQUIRE(key.save_file(a.signing_key_file).has_value());
        REQUIRE(key.save_file(b.signing_key_file).has_value());
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].find("hold the same key (" + key.did_key() + ")") !=
              std::string::npos);
    }
    SECTION("two different keys") {
        REQUIRE(
            labeler::atproto::private_key::generate().save_file(a.signing_key_file).has_value());
        REQUIRE(
            labeler::atproto::private_key::generate().save_file(b.signing_key_file).has_value());
        CHECK(check_isolation({a, b}).ok());
    }
    SECTION("a key file that exists but cannot be loaded") {
        REQUIRE(
            labeler::atproto::private_key::generate().save_file(a.signing_key_file).has_value());
        ::chmod(a.signing_key_file.c_str(), 0644);
        auto report = check_isolation({a, b});
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].rfind(a.file.string() + ": labeler.signing_key_file: ", 0) == 0);
    }
}

TEST_CASE("colliding listen addresses are problems") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "prod", 8080);
    auto report = check_isolation({a, b});
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].find("server.listen addresses collide (127.0.0.1:8080 and "
                                  "127.0.0.1:8080)") != std::string::npos);
    b.server.host = "0.0.0.0";
    CHECK_FALSE(check_isolation({a, b}).ok());
    b.server.host = "127.0.0.2";
    CHECK(check_isolation({a, b}).ok());
    a.server.port = b.server.port = 0;
    b.server.host = a.server.host;
    CHECK(check_isolation({a, b}).ok());
}

TEST_CASE("a shared labeler DID is only a warning") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "prod", 8081);
    b.labeler_did = a.labeler_did;
    auto report = check_isolation({a, b});
    CHECK(report.ok());
    REQUIRE(report.warnings.size() == 1);
    CHECK(report.warnings[0].find("both use labeler.did " + a.labeler_did) != std::string::npos);
}

TEST_CASE("every problem among three profiles is reported") {
    temp_dir t;
    auto a = make(t.path, "dev", 8080);
    auto b = make(t.path, "dev", 8080);
    auto c = make(t.path, "dev", 8080);
    b.file = t.path / "b.toml";
    c.file = t.path / "c.toml";
    auto report = check_isolation({a, b, c});
    // 3 pairs x (environment, storage, key file, listen).
    CHECK(report.problems.size() == 12);
    CHECK(mentions(report.problems, b.file.string() + " and " + c.file.string()));
    CHECK(report.warnings.size() == 3);
}
