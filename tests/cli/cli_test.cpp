// Runs the real random-labeler binary (RANDOM_LABELER_BIN) in a mkdtemp folder and checks exit
// statuses, stdout and stderr of every command.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "src/atproto/crypto.hpp"

namespace fs = std::filesystem;

namespace {

struct outcome {
    int status = -1;
    std::string out, err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A mkdtemp folder that is the child's working directory.
struct sandbox {
    fs::path dir;
    sandbox() {
        char tmpl[] = "/tmp/cli-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir = tmpl;
    }
    ~sandbox() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    // Runs the binary with `args` in `dir`; stdout/stderr captured through files.
    outcome run(const std::vector<std::string>& args) const {
        const fs::path out_file = dir / ".stdout", err_file = dir / ".stderr";
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (chdir(dir.c_str()) != 0) _exit(127);
            FILE* o = std::freopen(out_file.c_str(), "w", stdout);
            FILE* e = std::freopen(err_file.c_str(), "w", stderr);
            if (!o || !e) _exit(127);
            std::vector<char*> argv;
            std::string bin = RANDOM_LABELER_BIN;
            argv.push_back(bin.data());
            std::vector<std::string> copy = args;
            for (auto& a : copy) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(bin.c_str(), argv.data());
            _exit(127);
        }
        int st = 0;
        REQUIRE(waitpid(pid, &st, 0) == pid);
        outcome r;
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        r.out = slurp(out_file);
        r.err = slurp(err_file);
        fs::remove(out_file);
        fs::remove(err_file);
        return r;
    }

    void write(const fs::path& rel, const std::string& text) const {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
};

std::string profile_text(const std::string& env, int port, const std::string& extra = "") {
    return "environment = \"" + env +
           "\"\n"
           "[labeler]\n"
           "did = \"did:plc:" +
           env + std::string(24 - env.size(), 'a') +
           "\"\n"
           "signing_key_file = \"keys/" +
           env +
           ".key\"\n"
           "[server]\n"
           "listen = \"127.0.0.1:" +
           std::to_string(port) +
           "\"\n"
           "[storage]\n"
           "path = \"data/" +
           env +
           "\"\n"
           "[source]\n"
           "kind = \"file\"\n"
           "file = \"events.jsonl\"\n"
           "[[labels.values]]\n"
           "id = \"daikichi\"\n"
           "weight = 3\n"
           "locales = [{ lang = \"ja\", name = \"大吉\", description = \"とても \\\"良い\\\"\" },\n"
           "           { lang = \"en\", name = \"Excellent luck\", description = \"The best\" }]\n"
           "[[labels.values]]\n"
           "id = \"kyo\"\n"
           "severity = \"alert\"\n"
           "blurs = \"media\"\n"
           "default_setting = \"hide\"\n"
           "adult_only = true\n"
           "locales = [{ lang = \"en\", name = \"Bad luck\", description = \"Take care\" }]\n" +
           extra;
}

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("--help and --version") {
    sandbox s;
    auto help = s.run({"--help"});
    CHECK(help.status == 0);
    CHECK(contains(help.out, "usage: random-labeler"));
    for (const char* cmd : {"run --config", "keygen --out", "declare --config", "config check",
                            "check --url", "backfill", "reconcile"})
        CHECK(contains(help.out, cmd));
    auto version = s.run({"--version"});
    CHECK(version.status == 0);
    CHECK(version.out.rfind("random-labeler ", 0) == 0);
    auto none = s.run({});
    CHECK(none.status == 2);
    CHECK(contains(none.err, "usage: random-labeler"));
}

TEST_CASE("every command answers --help with exit 0") {
    sandbox s;
    const std::vector<std::vector<std::string>> cmds = {
        {"run", "--help"},      {"keygen", "--help"},
        {"declare", "--help"},  {"config", "check", "--help"},
        {"config", "--help"},   {"check", "--help"},
        {"backfill", "--help"}, {"reconcile", "--help"},
        {"run", "-h"},          {"run", "--config", "missing.toml", "--help"}};
    for (const auto& c : cmds) {
        INFO(c[0] << " " << c.back());
        auto r = s.run(c);
        CHECK(r.status == 0);
        CHECK(contains(r.out, "usage: random-labeler " +
                                  (c[0] == "config" ? std::string("config check") : c[0])));
        CHECK(r.err.empty());
    }
}

TEST_CASE("unknown commands and options are usage errors (exit 2)") {
    sandbox s;
    auto cmd = s.run({"frobnicate"});
    CHECK(cmd.status == 2);
    CHECK(contains(cmd.err, "unknown command \"frobnicate\""));
    CHECK(contains(cmd.err, "usage:"));
    CHECK(cmd.out.empty());
    auto flag = s.run({"--frob"});
    CHECK(flag.status == 2);
    CHECK(contains(flag.err, "unknown option --frob"));
    auto cmd_flag = s.run({"run", "--config", "x.toml", "--verbose"});
    CHECK(cmd_flag.status == 2);
    CHECK(contains(cmd_flag.err, "unknown option --verbose"));
    CHECK(contains(cmd_flag.err, "usage: random-labeler run"));
    auto missing_value = s.run({"keygen", "--out"});
    CHECK(missing_value.status == 2);
    CHECK(contains(missing_value.err, "--out needs a value"));
    auto missing_flag = s.run({"declare"});
    CHECK(missing_flag.status == 2);
    CHECK(contains(missing_flag.err, "missing --config"));
    auto stray = s.run({"declare", "--config", "a.toml", "b.toml"});
    CHECK(stray.status == 2);
    auto sub = s.run({"config", "lint", "a.toml"});
    CHECK(sub.status == 2);
    CHECK(contains(sub.err, "unknown subcommand \"lint\""));
    auto bare_config = s.run({"config"});
    CHECK(bare_config.status == 2);
    auto no_files = s.run({"config", "check"});
    CHECK(no_files.status == 2);
    auto bad_cursor = s.run({"run", "--config", "x.toml", "--cursor", "-3"});
    CHECK(bad_cursor.status == 2);
    CHECK(contains(bad_cursor.err, "--cursor needs a non-negative integer"));
    auto bad_level = s.run({"run", "--config", "x.toml", "--log-level", "loud"});
    CHECK(bad_level.status == 2);
    CHECK(contains(bad_level.err, "--log-level"));
    auto twice = s.run({"run", "--config", "a.toml", "--config=b.toml"});
    CHECK(twice.status == 2);
    CHECK(contains(twice.err, "given twice"));
}

TEST_CASE("planned commands say so and fail") {
    sandbox s;
    for (auto args :
         std::vector<std::vector<std::string>>{{"check", "--url", "http://127.0.0.1:1"},
                                               {"backfill", "--config", "x.toml"},
                                               {"reconcile", "--config", "x.toml", "--dry-run"}}) {
        auto r = s.run(args);
        CHECK(r.status == 2);
        CHECK(contains(r.err, "not implemented yet"));
    }
}

TEST_CASE("keygen writes a 0600 hex key, prints its did:key, refuses to overwrite") {
    sandbox s;
    auto r = s.run({"keygen", "--out", "keys/dev.key"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const fs::path key_file = s.dir / "keys" / "dev.key";
    REQUIRE(fs::exists(key_file));
    struct stat st {};
    REQUIRE(::stat(key_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string hex = slurp(key_file);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    CHECK(hex.size() == 64);
    CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);

    std::string did = r.out;
    REQUIRE(!did.empty());
    CHECK(did.back() == '\n');
    did.pop_back();
    CHECK(did.rfind("did:key:zQ3s", 0) == 0);
    auto key = labeler::atproto::private_key::load_file(key_file);
    REQUIRE(key.has_value());
    CHECK(key->did_key() == did);
    CHECK(key->to_hex() == hex);

    auto again = s.run({"keygen", "--out", "keys/dev.key"});
    CHECK(again.status != 0);
    CHECK(contains(again.err, "keys/dev.key"));
    CHECK(again.out.empty());
    CHECK(slurp(key_file).substr(0, 64) == hex);  // untouched

    auto other = s.run({"keygen", "--out=other.key"});
    REQUIRE(other.status == 0);
    CHECK(other.out != r.out);  // a fresh key each time

    auto into_dir = s.run({"keygen", "--out", "keys"});
    CHECK(into_dir.status != 0);
    CHECK(!into_dir.err.empty());
}

TEST_CASE("declare prints the labeler service record") {
    sandbox s;
    s.write("p.toml", profile_text("dev", 8080));
    auto r = s.run({"declare", "--config", "p.toml"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    boost::json::value v;
    REQUIRE_NOTHROW(v = boost::json::parse(r.out));
    const auto& rec = v.as_object();
    CHECK(rec.at("$type").as_string() == "app.bsky.labeler.service");
    const auto& pol = rec.at("policies").as_object();
    const auto& values = pol.at("labelValues").as_array();
    REQUIRE(values.size() == 2);
    CHECK(values[0].as_string() == "daikichi");
    CHECK(values[1].as_string() == "kyo");
    const auto& defs = pol.at("labelValueDefinitions").as_array();
    REQUIRE(defs.size() == 2);
    const auto& d0 = defs[0].as_object();
    CHECK(d0.at("identifier").as_string() == "daikichi");
    CHECK(d0.at("severity").as_string() == "inform");
    CHECK(d0.at("blurs").as_string() == "none");
    CHECK(d0.at("defaultSetting").as_string() == "warn");
    CHECK(d0.at("adultOnly").as_bool() == false);
    const auto& loc = d0.at("locales").as_array();
    REQUIRE(loc.size() == 2);
    CHECK(loc[0].at("lang").as_string() == "ja");
    CHECK(loc[0].at("name").as_string() == "大吉");
    CHECK(loc[0].at("description").as_string() == "とても \"良い\"");
    CHECK(loc[1].at("name").as_string() == "Excellent luck");
    const auto& d1 = defs[1].as_object();
    CHECK(d1.at("identifier").as_string() == "kyo");
    CHECK(d1.at("severity").as_string() == "alert");
    CHECK(d1.at("blurs").as_string() == "media");
    CHECK(d1.at("defaultSetting").as_string() == "hide");
    CHECK(d1.at("adultOnly").as_bool() == true);
    CHECK(rec.at("subjectTypes").as_array().empty());
    CHECK(rec.at("reasonTypes").as_array().empty());
    CHECK(rec.at("subjectCollections").as_array().empty());
    std::string created(rec.at("createdAt").as_string());
    CHECK(created.size() == 24);
    CHECK(created[10] == 'T');
    CHECK(created.back() == 'Z');

    auto broken = s.run({"declare", "--config", "missing.toml"});
    CHECK(broken.status == 2);
    CHECK(contains(broken.err, "missing.toml"));
    CHECK(broken.out.empty());
}

TEST_CASE("declare works for every shipped profile") {
    sandbox s;
    for (const char* env : {"development", "staging", "production"}) {
        auto r = s.run(
            {"declare", "--config", std::string(LABELER_SOURCE_DIR) + "/config/" + env + ".toml"});
        INFO(env << ": " << r.err);
        REQUIRE(r.status == 0);
        auto v = boost::json::parse(r.out);
        CHECK(v.at("policies").at("labelValues").as_array().size() == 7);
    }
}

TEST_CASE("config check exit codes and output") {
    sandbox s;
    s.write("dev.toml", profile_text("dev", 8080));
    s.write("prod.toml", profile_text("prod", 8081));
    auto ok = s.run({"config", "check", "dev.toml", "prod.toml"});
    INFO(ok.err);
    CHECK(ok.status == 0);
    CHECK(contains(ok.out, "ok dev.toml (environment dev, did did:plc:dev"));
    CHECK(contains(ok.out, "ok prod.toml (environment prod, did did:plc:prod"));
    CHECK(contains(ok.err, "note: dev.toml: labeler.signing_key_file keys/dev.key does not exist yet"));

    s.write("bad.toml", profile_text("bad", 8082, "[reroll]\nevery = \"1d\"\n"));
    auto bad = s.run({"config", "check", "dev.toml", "bad.toml"});
    CHECK(bad.status == 1);
    CHECK(contains(bad.out, "ok dev.toml"));
    CHECK(contains(bad.err, "bad.toml: reroll.every: \"1d\""));

    s.write("clash.toml", profile_text("dev", 8080));
    auto clash = s.run({"config", "check", "dev.toml", "clash.toml"});
    CHECK(clash.status == 1);
    CHECK(contains(clash.err, "dev.toml and clash.toml: both use environment \"dev\""));
    CHECK(contains(clash.err, "server.listen addresses collide"));
    CHECK(contains(clash.err, "both use storage.path"));

    auto missing = s.run({"config", "check", "nope.toml"});
    CHECK(missing.status == 1);
    CHECK(contains(missing.err, "nope.toml: cannot read"));

    // Shared keys are found once the key files exist.
    REQUIRE(s.run({"keygen", "--out", "keys/dev.key"}).status == 0);
    fs::copy_file(s.dir / "keys/dev.key", s.dir / "keys/prod.key");
    auto same_key = s.run({"config", "check", "dev.toml", "prod.toml"});
    CHECK(same_key.status == 1);
    CHECK(contains(same_key.err, "hold the same key (did:key:"));
}

TEST_CASE("config check passes on the shipped profiles") {
    sandbox s;
    const std::string root = LABELER_SOURCE_DIR;
    auto r = s.run({"config", "check", root + "/config/development.toml",
                    root + "/config/staging.toml", root + "/config/production.toml"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(contains(r.out, "environment development"));
    CHECK(contains(r.out, "environment staging"));
    CHECK(contains(r.out, "environment production"));
}

TEST_CASE("run with a broken profile fails with the error on stderr") {
    sandbox s;
    s.write("broken.toml", profile_text("dev", 8080, "[server]\nlisten = \"nowhere\"\n"));
    auto dup = s.run({"run", "--config", "broken.toml"});
    CHECK(dup.status == 2);
    CHECK(contains(dup.err, "broken.toml:"));  // duplicate [server] table: TOML syntax error

    s.write("bad.toml",
            profile_text("dev", 8080)
                .replace(profile_text("dev", 8080).find("127.0.0.1:8080"), 14, "nowhere"));
    auto bad = s.run({"run", "--config", "bad.toml"});
    CHECK(bad.status == 2);
    CHECK(contains(bad.err, "bad.toml: server.listen: \"nowhere\" needs HOST:PORT"));
    CHECK(bad.out.empty());

    auto missing = s.run({"run", "--config", "missing.toml"});
    CHECK(missing.status == 2);
    CHECK(contains(missing.err, "missing.toml: cannot read the profile"));
}

TEST_CASE("run and config check name a missing or wrong source.ca_file") {
    sandbox s;
    auto with_ca = [](const std::string& ca_file) {
        std::string text = profile_text("dev", 0);
        const std::string file_source = "kind = \"file\"\nfile = \"events.jsonl\"\n";
        return text.replace(text.find(file_source), file_source.size(),
                            "kind = \"jetstream\"\nurls = [\"wss://relay.internal/subscribe\"]\n"
                            "ca_file = \"" + ca_file + "\"\n");
    };
    s.write("missing.toml", with_ca("certs/private-ca.pem"));
    auto check = s.run({"config", "check", "missing.toml"});
    CHECK(check.status == 1);
    CHECK(contains(check.err,
                   "missing.toml: source.ca_file: \"certs/private-ca.pem\" does not exist"));
    auto run = s.run({"run", "--config", "missing.toml"});
    CHECK(run.status == 2);
    CHECK(contains(run.err, "source.ca_file: \"certs/private-ca.pem\" does not exist"));

    s.write("certs/private-ca.pem", "not a certificate\n");
    auto wrong = s.run({"config", "check", "missing.toml"});
    CHECK(wrong.status == 1);
    CHECK(contains(wrong.err, "holds no PEM certificate"));
}
