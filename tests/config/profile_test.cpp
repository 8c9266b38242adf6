// load_profile / parse_profile: every field, defaults, and dozens of bad profiles, each of which
// must name the file, the key and the problem.
#include "src/config/profile.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace labeler::config;
using namespace std::chrono_literals;

namespace {

const std::string kFile = "test/profile.toml";

// A valid profile that sets every key.
const std::string kFull = R"(environment = "staging-2"

[labeler]
did = "did:plc:abcdefghijklmnopqrstuvwx"
signing_key_file = "keys/staging.key"

[server]
listen = "[::1]:8443"
threads = 4
max_header_bytes = 16384
max_body_bytes = 1024
read_timeout_ms = 5000
idle_timeout_ms = 30000
subscriber_queue_frames = 500
ws_ping_interval_ms = 15000
max_connections = 2000
label_json_cache = 1000
query_cache = 64

[storage]
path = "data/staging"
sync = "interval"
sync_interval_ms = 250

[source]
kind = "jetstream"
urls = ["wss://jetstream1.us-east.bsky.network/subscribe", "ws://127.0.0.1:6008/subscribe"]
cursor = 1725911162329308
rewind_seconds = 7
zstd_dictionary = "config/zstd_dictionary"
max_event_bytes = 65536
backoff_initial_ms = 250
backoff_max_ms = 10000

[pipeline]
queue_capacity = 128
batch_max = 64

[[labels.values]]
id = "daikichi"
weight = 3
severity = "alert"
blurs = "media"
default_setting = "hide"
adult_only = true
locales = [{ lang = "ja", name = "大吉", description = "とても良い" },
           { lang = "en", name = "Excellent luck", description = "The best" }]

[[labels.values]]
id = "kyo"
locales = [{ lang = "en", name = "Bad luck", description = "Take care" }]

[reroll]
daily_at = "06:30"
utc_offset = "-03:30"

[admin]
token_file = "keys/admin-token"

[log]
level = "debug"
)";

// A minimal valid profile (kind = file) for the bad cases below to break.
const std::string kBase = R"(environment = "development"

[labeler]
did = "did:plc:randomlabelerdevelopment"
signing_key_file = "keys/development.key"

[server]
listen = "127.0.0.1:8080"

[storage]
path = "data/development"

[source]
kind = "file"
file = "config/samples/development.jsonl"

[[labels.values]]
id = "kichi"
weight = 2
locales = [{ lang = "en", name = "Good luck", description = "Kichi" }]

[[labels.values]]
id = "kyo"
weight = 1
locales = [{ lang = "en", name = "Bad luck", description = "Kyo" }]
)";

// kBase with the first occurrence of `from` replaced by `to` (which must exist).
std::string with(const std::string& from, const std::string& to, std::string base = kBase) {
    auto pos = base.find(from);
    REQUIRE(pos != std::string::npos);
    base.replace(pos, from.size(), to);
    return base;
}

std::string errors_of(const std::string& text) {
    auto r = parse_profile(text, kFile);
    REQUIRE_FALSE(r.has_value());
    // Every line names the file.
    std::size_t start = 0;
    const std::string& m = r.error().message;
    while (start < m.size()) {
        auto nl = m.find('\n', start);
        std::string line =
            m.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        INFO(line);
        CHECK(line.rfind(kFile + ":", 0) == 0);
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    return m;
}

std::size_t line_count(const std::string& s) {
    return s.empty() ? 0 : 1 + std::count(s.begin(), s.end(), '\n');
}

struct bad_case {
    std::string name;
    std::string text;
    std::string expected;  // a line of the error must contain this
};

}  // namespace

TEST_CASE("a profile with every key loads with every field") {
    auto r = parse_profile(kFull, kFile);
    INFO((r.has_value() ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    const profile& p = *r;
    CHECK(p.file == kFile);
    CHECK(p.environment == "staging-2");
    CHECK(p.labeler_did == "did:plc:abcdefghijklmnopqrstuvwx");
    CHECK(p.signing_key_file == "keys/staging.key");
    CHECK(p.server.host == "::1");
    CHECK(p.server.port == 8443);
    CHECK(p.server.threads == 4);
    CHECK(p.server.max_header_bytes == 16384);
    CHECK(p.server.max_body_bytes == 1024);
    CHECK(p.server.read_timeout == 5000ms);
    CHECK(p.server.idle_timeout == 30000ms);
    CHECK(p.server.subscriber_queue_frames == 500);
    CHECK(p.server.ws_ping_interval == 15000ms);
    CHECK(p.server.max_connections == 2000);
    CHECK(p.server.label_json_cache == 1000);
    CHECK(p.server.query_cache == 64);
    CHECK(p.storage.path == "data/staging");
    CHECK(p.storage.sync == storage_config::sync_mode::interval);
    CHECK(p.storage.sync_interval == 250ms);
    CHECK(p.source.kind == source_config::kind_t::jetstream);
    REQUIRE(p.source.urls.size() == 2);
    CHECK(p.source.urls[0] == "wss://jetstream1.us-east.bsky.network/subscribe");
    CHECK(p.source.urls[1] == "ws://127.0.0.1:6008/subscribe");
    CHECK(p.source.cursor == std::optional<std::uint64_t>(1725911162329308ULL));
    CHECK(p.source.rewind == 7s);
    CHECK(p.source.zstd_dictionary ==
          std::optional<std::filesystem::path>("config/zstd_dictionary"));
    CHECK(p.source.max_event_bytes == 65536);
    CHECK(p.source.backoff_initial == 250ms);
    CHECK(p.source.backoff_max == 10000ms);
    CHECK(p.pipeline.queue_capacity == 128);
    CHECK(p.pipeline.batch_max == 64);
    REQUIRE(p.values.size() == 2);
    const auto& v = p.values[0];
    CHECK(v.id == "daikichi");
    CHECK(v.weight == 3);
    CHECK(v.severity == "alert");
    CHECK(v.blurs == "media");
    CHECK(v.default_setting == "hide");
    CHECK(v.adult_only);
    REQUIRE(v.locales.size() == 2);
    CHECK(v.locales[0].lang == "ja");
    CHECK(v.locales[0].name == "大吉");
    CHECK(v.locales[0].description == "とても良い");
    CHECK(v.locales[1].lang == "en");
    CHECK(v.locales[1].name == "Excellent luck");
    const auto& k = p.values[1];
    CHECK(k.id == "kyo");
    CHECK(k.weight == 1);
    CHECK(k.severity == "inform");
    CHECK(k.blurs == "none");
    CHECK(k.default_setting == "warn");
    CHECK_FALSE(k.adult_only);
    CHECK(p.reroll.mode == reroll_config::mode_t::daily);
    CHECK(p.reroll.daily_at == std::chrono::minutes(6 * 60 + 30));
    CHECK(p.reroll.utc_offset == std::chrono::minutes(-(3 * 60 + 30)));
    CHECK(p.admin_token_file == std::optional<std::filesystem::path>("keys/admin-token"));
    CHECK(p.log_level == "debug");
}

TEST_CASE("omitted optional keys take the documented defaults") {
    auto r = parse_profile(kBase, kFile);
    INFO((r.has_value() ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    const profile& p = *r;
    const profile d;
    CHECK(p.server.host == "127.0.0.1");
    CHECK(p.server.port == 8080);
    CHECK(p.server.threads == d.server.threads);
    CHECK(p.server.max_header_bytes == d.server.max_header_bytes);
    CHECK(p.server.max_body_bytes == d.server.max_body_bytes);
    CHECK(p.server.read_timeout == d.server.read_timeout);
    CHECK(p.server.idle_timeout == d.server.idle_timeout);
    CHECK(p.server.subscriber_queue_frames == d.server.subscriber_queue_frames);
    CHECK(p.server.ws_ping_interval == d.server.ws_ping_interval);
    CHECK(p.storage.sync == storage_config::sync_mode::batch);
    CHECK(p.source.kind == source_config::kind_t::file);
    CHECK(p.source.file == "config/samples/development.jsonl");
    CHECK(p.source.format == source_config::file_format::jetstream);
    CHECK_FALSE(p.source.pace_recorded);
    CHECK_FALSE(p.source.cursor.has_value());
    CHECK(p.source.urls.empty());
    CHECK(p.source.rewind == d.source.rewind);
    CHECK(p.source.max_event_bytes == d.source.max_event_bytes);
    CHECK(p.pipeline.queue_capacity == d.pipeline.queue_capacity);
    CHECK(p.pipeline.batch_max == d.pipeline.batch_max);
    CHECK(p.reroll.mode == reroll_config::mode_t::none);
    CHECK_FALSE(p.admin_token_file.has_value());
    CHECK(p.log_level == "info");
    REQUIRE(p.values.size() == 2);
    CHECK(p.values[0].weight == 2);
}

TEST_CASE("file source options and alternative listen forms") {
    auto text = with("file = \"config/samples/development.jsonl\"",
                     "file = \"x.bin\"\nformat = \"firehose\"\npace = \"recorded\"\ncursor = 0");
    text = with("127.0.0.1:8080", "localhost:0", text);
    auto r = parse_profile(text, kFile);
    INFO((r.has_value() ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    CHECK(r->source.format == source_config::file_format::firehose);
    CHECK(r->source.pace_recorded);
    CHECK(r->source.cursor == std::optional<std::uint64_t>(0));
    CHECK(r->server.host == "127.0.0.1");
    CHECK(r->server.port == 0);

    auto every = parse_profile(kBase + "\n[reroll]\nevery = \"90m\"\n", kFile);
    REQUIRE(every.has_value());
    CHECK(every->reroll.mode == reroll_config::mode_t::every);
    CHECK(every->reroll.every == std::chrono::seconds(90 * 60));

    auto fh = with("kind = \"file\"\nfile = \"config/samples/development.jsonl\"",
                   "kind = \"firehose\"\nurls = "
                   "[\"wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos\"]");
    auto f = parse_profile(fh, kFile);
    INFO((f.has_value() ? std::string() : f.error().message));
    REQUIRE(f.has_value());
    CHECK(f->source.kind == source_config::kind_t::firehose);
}

TEST_CASE("source.ca_file must name a readable file holding a PEM certificate") {
    char tmpl[] = "/tmp/config-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::filesystem::path dir(tmpl);
    std::ofstream(dir / "ca.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                     "-----END CERTIFICATE-----\n";
    std::ofstream(dir / "key.pem") << "-----BEGIN PRIVATE KEY-----\nMIGH\n"
                                      "-----END PRIVATE KEY-----\n";
    auto jetstream_with = [](const std::string& ca_file) {
        return with("kind = \"file\"\nfile = \"config/samples/development.jsonl\"",
                    "kind = \"jetstream\"\nurls = [\"wss://relay.internal/subscribe\"]\n"
                    "ca_file = \"" + ca_file + "\"");
    };

    auto ok = parse_profile(jetstream_with((dir / "ca.pem").string()), kFile);
    INFO((ok.has_value() ? std::string() : ok.error().message));
    REQUIRE(ok.has_value());
    CHECK(ok->source.ca_file == std::optional<std::filesystem::path>(dir / "ca.pem"));
    auto none = parse_profile(kBase, kFile);
    REQUIRE(none.has_value());
    CHECK_FALSE(none->source.ca_file.has_value());

    const std::vector<std::pair<std::string, std::string>> bad = {
        {jetstream_with((dir / "nope.pem").string()),
         "source.ca_file: \"" + (dir / "nope.pem").string() + "\" does not exist"},
        {jetstream_with(dir.string()), "\" is not a regular file"},
        {jetstream_with((dir / "key.pem").string()),
         "\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)"},
        {jetstream_with(""), "source.ca_file: must not be empty"},
        {with("[source]\n", "[source]\nca_file = \"" + (dir / "ca.pem").string() + "\"\n"),
         "source.ca_file: only used with kind = \"jetstream\" or \"firehose\""},
    };
    for (const auto& [text, expected] : bad) {
        std::string errors = errors_of(text);
        INFO("errors:\n" << errors);
        CHECK(errors.find(expected) != std::string::npos);
        CHECK(line_count(errors) == 1);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("bad profiles name the file, the key and the problem") {
    const std::string src_file = "kind = \"file\"\nfile = \"config/samples/development.jsonl\"";
    const std::vector<bad_case> cases = {
        // unknown keys at every level
        {"unknown top-level key", "colour = \"red\"\n" + kBase,
         "unknown key \"colour\" at top level"},
        {"unknown table", kBase + "\n[sever]\nlisten = \"1.2.3.4:1\"\n",
         "unknown key \"sever\" at top level"},
        {"unknown key in [labeler]", with("[labeler]\n", "[labeler]\nhandle = \"x\"\n"),
         "unknown key \"handle\" in [labeler]"},
        {"unknown key in [server]", with("listen = ", "lisen = \"1.2.3.4:5\"\nlisten = "),
         "unknown key \"lisen\" in [server]"},
        {"unknown key in [storage]", with("[storage]\n", "[storage]\nengine = \"rocks\"\n"),
         "unknown key \"engine\" in [storage]"},
        {"unknown key in [source]", with("[source]\n", "[source]\nurl = \"wss://x\"\n"),
         "unknown key \"url\" in [source]"},
        {"unknown key in [pipeline]", kBase + "\n[pipeline]\nqueue = 3\n",
         "unknown key \"queue\" in [pipeline]"},
        {"unknown key in [labels]",
         with("[[labels.values]]", "[labels]\nextra = 1\n\n[[labels.values]]"),
         "unknown key \"extra\" in [labels]"},
        {"unknown key in a label value", with("weight = 2", "wieght = 2"),
         "unknown key \"wieght\" in labels.values[0]"},
        {"unknown key in a locale",
         with("description = \"Kyo\"", "description = \"Kyo\", nmae = \"x\""),
         "unknown key \"nmae\" in labels.values[1].locales[0]"},
        {"unknown key in [reroll]", kBase + "\n[reroll]\nevery = \"1h\"\nat = \"x\"\n",
         "unknown key \"at\" in [reroll]"},
        {"unknown key in [admin]", kBase + "\n[admin]\ntoken = \"x\"\n",
         "unknown key \"token\" in [admin]"},
        {"unknown key in [log]", kBase + "\n[log]\nlevel = \"info\"\nformat = \"json\"\n",
         "unknown key \"format\" in [log]"},
        // missing keys
        {"missing environment", with("environment = \"development\"\n", ""),
         "test/profile.toml: environment: missing"},
        {"missing labeler.did", with("did = \"did:plc:randomlabelerdevelopment\"\n", ""),
         "labeler.did: missing"},
        {"missing signing key file", with("signing_key_file = \"keys/development.key\"\n", ""),
         "labeler.signing_key_file: missing"},
        {"missing [server]", with("[server]\nlisten = \"127.0.0.1:8080\"\n", ""),
         "server: missing"},
        {"missing listen", with("listen = \"127.0.0.1:8080\"\n", ""), "server.listen: missing"},
        {"missing storage.path", with("path = \"data/development\"\n", ""),
         "storage.path: missing"},
        {"missing source.kind", with("kind = \"file\"\n", ""), "source.kind: missing"},
        {"missing source.file", with("file = \"config/samples/development.jsonl\"\n", ""),
         "source.file: missing"},
        {"missing urls for jetstream", with(src_file, "kind = \"jetstream\""),
         "source.urls: missing"},
        {"missing labels", kBase.substr(0, kBase.find("[[labels.values]]")), "labels: missing"},
        {"missing locales",
         with("locales = [{ lang = \"en\", name = \"Bad luck\", description = \"Kyo\" }]", ""),
         "labels.values[1].locales: missing"},
        {"missing locale name", with("name = \"Bad luck\", ", ""),
         "labels.values[1].locales[0].name: missing"},
        {"missing label id", with("id = \"kyo\"\n", ""), "labels.values[1].id: missing"},
        // values
        {"bad environment", with("environment = \"development\"", "environment = \"Dev_1\""),
         "environment: \"Dev_1\" must match ^[a-z0-9-]+$"},
        {"empty environment", with("environment = \"development\"", "environment = \"\""),
         "environment: \"\" must not be empty"},
        {"bad DID", with("did:plc:randomlabelerdevelopment", "did:foo"),
         "labeler.did: \"did:foo\" is not a valid DID"},
        {"not a DID", with("did:plc:randomlabelerdevelopment", "randomlabeler"),
         "labeler.did: \"randomlabeler\" is not a valid DID"},
        {"short did:plc", with("did:plc:randomlabelerdevelopment", "did:plc:abc"),
         "a did:plc identifier is 24 characters"},
        {"unsupported DID method", with("did:plc:randomlabelerdevelopment", "did:key:zQ3shabc"),
         "is not supported by atproto"},
        {"empty signing key file", with("\"keys/development.key\"", "\"\""),
         "labeler.signing_key_file: must not be empty"},
        {"listen without port", with("127.0.0.1:8080", "1.2.3.4"),
         "server.listen: \"1.2.3.4\" needs HOST:PORT"},
        {"listen port too big", with("127.0.0.1:8080", "127.0.0.1:70000"),
         "server.listen: \"127.0.0.1:70000\" has a port above 65535"},
        {"listen port not numeric", with("127.0.0.1:8080", "127.0.0.1:http"),
         "server.listen: \"127.0.0.1:http\" needs a numeric PORT"},
        {"listen negative port", with("127.0.0.1:8080", "127.0.0.1:-1"), "needs a numeric PORT"},
        {"listen host name", with("127.0.0.1:8080", "example.com:80"),
         "needs an IPv4 address, [IPv6] address or localhost"},
        {"listen bad IPv4", with("127.0.0.1:8080", "300.1.1.1:80"), "needs an IPv4 address"},
        {"listen IPv6 without brackets", with("127.0.0.1:8080", "::1:8080"),
         "needs brackets around an IPv6 address"},
        {"listen bad IPv6", with("127.0.0.1:8080", "[fe80::zz]:80"), "is not an IPv6 address"},
        {"empty storage path", with("\"data/development\"", "\"\""),
         "storage.path: must not be empty"},
        {"bad sync", with("[storage]\n", "[storage]\nsync = \"always\"\n"),
         "storage.sync: \"always\" must be one of \"batch\", \"interval\""},
        {"bad source kind", with("kind = \"file\"", "kind = \"relay\""),
         "source.kind: \"relay\" must be one of"},
        {"empty urls", with(src_file, "kind = \"jetstream\"\nurls = []"),
         "source.urls: must list at least one URL"},
        {"http url",
         with(src_file,
              "kind = \"jetstream\"\nurls = "
              "[\"https://jetstream1.us-east.bsky.network/subscribe\"]"),
         "source.urls[0]: \"https://jetstream1.us-east.bsky.network/subscribe\" must start with "
         "ws:// or wss://"},
        {"url without host", with(src_file, "kind = \"firehose\"\nurls = [\"wss:///x\"]"),
         "source.urls[0]: \"wss:///x\" has no host"},
        {"url bad port",
         with(src_file, "kind = \"jetstream\"\nurls = [\"ws://127.0.0.1:99999/subscribe\"]"),
         "has a bad port"},
        {"duplicate url",
         with(src_file,
              "kind = \"jetstream\"\nurls = [\"wss://a.example/s\", \"wss://a.example/s\"]"),
         "source.urls[1]: \"wss://a.example/s\" is listed twice"},
        {"url not a string", with(src_file, "kind = \"jetstream\"\nurls = [3]"),
         "source.urls[0]: expected a string, got an integer"},
        {"urls with kind file", with("[source]\n", "[source]\nurls = [\"wss://a.example/s\"]\n"),
         "source.urls: only used with kind"},
        {"file with kind jetstream",
         with("kind = \"file\"", "kind = \"jetstream\"\nurls = [\"wss://a.example/s\"]"),
         "source.file: only used with kind = \"file\""},
        {"bad format", with("[source]\n", "[source]\nformat = \"car\"\n"),
         "source.format: \"car\" must be one of \"jetstream\", \"firehose\""},
        {"bad pace", with("[source]\n", "[source]\npace = \"slow\"\n"),
         "source.pace: \"slow\" must be one of \"full\", \"recorded\""},
        {"negative cursor", with("[source]\n", "[source]\ncursor = -5\n"),
         "source.cursor: must be at least 0, got -5"},
        {"zstd dictionary with kind file",
         with("[source]\n", "[source]\nzstd_dictionary = \"d\"\n"),
         "source.zstd_dictionary: only used with kind = \"jetstream\""},
        {"backoff max below initial",
         with("[source]\n", "[source]\nbackoff_initial_ms = 1000\nbackoff_max_ms = 10\n"),
         "source.backoff_max_ms: 10 is below backoff_initial_ms (1000)"},
        {"tiny max_event_bytes", with("[source]\n", "[source]\nmax_event_bytes = 10\n"),
         "source.max_event_bytes: must be between 1024 and"},
        {"zero threads", with("[server]\n", "[server]\nthreads = 0\n"),
         "server.threads: must be between 1 and 256, got 0"},
        {"zero max_connections", with("[server]\n", "[server]\nmax_connections = 0\n"),
         "server.max_connections: must be between 1 and 1000000, got 0"},
        {"huge query_cache", with("[server]\n", "[server]\nquery_cache = 100000\n"),
         "server.query_cache: must be between 0 and 65536, got 100000"},
        {"huge label_json_cache", with("[server]\n", "[server]\nlabel_json_cache = 100000000\n"),
         "server.label_json_cache: must be between 0 and 16777216, got 100000000"},
        {"zero queue capacity", kBase + "\n[pipeline]\nqueue_capacity = 0\n",
         "pipeline.queue_capacity: must be between 1 and"},
        {"bad label value (digits, upper case)", with("id = \"kyo\"", "id = \"Kyo_1\""),
         "labels.values[1].id: \"Kyo_1\" must match ^[a-z-]+$ (custom label values with digits, "
         "upper case or '_' are invisible in the Bluesky app)"},
        {"label value with leading dash", with("id = \"kyo\"", "id = \"-kyo\""),
         "labels.values[1].id: \"-kyo\" must not start or end with '-'"},
        {"system label value", with("id = \"kyo\"", "id = \"!hide\""),
         "labels.values[1].id: \"!hide\" must match"},
        {"label value too long", with("id = \"kyo\"", "id = \"" + std::string(101, 'k') + "\""),
         "is longer than 100 bytes"},
        {"duplicate ids", with("id = \"kyo\"", "id = \"kichi\""),
         "labels.values[1].id: \"kichi\" is defined twice"},
        {"zero weight", with("weight = 2", "weight = 0"),
         "labels.values[0].weight: must be between 1 and"},
        {"negative weight", with("weight = 1", "weight = -3"),
         "labels.values[1].weight: must be between 1 and"},
        {"empty locales",
         with("locales = [{ lang = \"en\", name = \"Bad luck\", description = \"Kyo\" }]",
              "locales = []"),
         "labels.values[1].locales: must list at least one locale"},
        {"empty locale name", with("name = \"Bad luck\"", "name = \"\""),
         "labels.values[1].locales[0].name: must not be empty"},
        {"long locale name", with("name = \"Bad luck\"", "name = \"" + std::string(65, 'x') + "\""),
         "labels.values[1].locales[0].name: is 65 characters long; at most 64"},
        {"empty description", with("description = \"Kyo\"", "description = \"  \""),
         "labels.values[1].locales[0].description: must not be empty"},
        {"bad lang", with("lang = \"en\", name = \"Bad", "lang = \"english!\", name = \"Bad"),
         "labels.values[1].locales[0].lang: \"english!\" is not a language tag"},
        {"duplicate lang",
         with("{ lang = \"en\", name = \"Bad luck\", description = \"Kyo\" }",
              "{ lang = \"en\", name = \"Bad luck\", description = \"Kyo\" }, { lang = \"en\", "
              "name = \"B\", description = \"K\" }"),
         "labels.values[1].locales[1].lang: \"en\" appears twice"},
        {"locale not a table",
         with("locales = [{ lang = \"en\", name = \"Bad luck\", description = \"Kyo\" }]",
              "locales = [\"en\"]"),
         "labels.values[1].locales[0]: expected a table, got a string"},
        {"bad severity", with("weight = 2", "weight = 2\nseverity = \"high\""),
         "labels.values[0].severity: \"high\" must be one of \"inform\", \"alert\", \"none\""},
        {"bad blurs", with("weight = 2", "weight = 2\nblurs = \"all\""),
         "labels.values[0].blurs: \"all\" must be one of \"content\", \"media\", \"none\""},
        {"bad default_setting", with("weight = 2", "weight = 2\ndefault_setting = \"show\""),
         "labels.values[0].default_setting: \"show\" must be one of \"ignore\", \"warn\", "
         "\"hide\""},
        {"no label values",
         kBase.substr(0, kBase.find("[[labels.values]]")) + "[labels]\nvalues = []\n",
         "labels.values: must list at least one label value"},
        // reroll
        {"reroll bad daily_at", kBase + "\n[reroll]\ndaily_at = \"24:00\"\n",
         "reroll.daily_at: \"24:00\" must be \"HH:MM\""},
        {"reroll daily_at without colon", kBase + "\n[reroll]\ndaily_at = \"0900\"\n",
         "reroll.daily_at: \"0900\" must be \"HH:MM\""},
        {"reroll bad every", kBase + "\n[reroll]\nevery = \"1d\"\n",
         "reroll.every: \"1d\" must be a positive whole number"},
        {"reroll zero every", kBase + "\n[reroll]\nevery = \"0h\"\n",
         "reroll.every: \"0h\" must be a positive"},
        {"reroll both", kBase + "\n[reroll]\ndaily_at = \"00:00\"\nevery = \"24h\"\n",
         "reroll: set either daily_at or every, not both"},
        {"reroll neither", kBase + "\n[reroll]\nutc_offset = \"+09:00\"\n",
         "reroll: needs daily_at"},
        {"reroll bad offset", kBase + "\n[reroll]\ndaily_at = \"00:00\"\nutc_offset = \"+9\"\n",
         "reroll.utc_offset: \"+9\" must be \"+HH:MM\""},
        {"reroll offset too large",
         kBase + "\n[reroll]\ndaily_at = \"00:00\"\nutc_offset = \"+15:00\"\n",
         "reroll.utc_offset: \"+15:00\" must be"},
        {"reroll offset with every",
         kBase + "\n[reroll]\nevery = \"1h\"\nutc_offset = \"+01:00\"\n",
         "reroll.utc_offset: only used with daily_at"},
        // types
        {"threads as string", with("[server]\n", "[server]\nthreads = \"4\"\n"),
         "server.threads: expected an integer, got a string"},
        {"port as integer", with("listen = \"127.0.0.1:8080\"", "listen = 8080"),
         "server.listen: expected a string, got an integer"},
        {"environment as table",
         with("environment = \"development\"\n", "[environment]\nname = \"x\"\n"),
         "environment: expected a string, got a table"},
        {"server as string",
         with("[server]\nlisten = \"127.0.0.1:8080\"\n", "").insert(0, "server = \"x\"\n"),
         "server: expected a table, got a string"},
        {"weight as float", with("weight = 2", "weight = 2.5"),
         "labels.values[0].weight: expected an integer, got a floating-point number"},
        {"adult_only as string", with("weight = 2", "weight = 2\nadult_only = \"yes\""),
         "labels.values[0].adult_only: expected a boolean, got a string"},
        {"urls as string", with(src_file, "kind = \"jetstream\"\nurls = \"wss://a.example/s\""),
         "source.urls: expected an array, got a string"},
        {"labels.values as table",
         kBase.substr(0, kBase.find("[[labels.values]]")) + "[labels.values]\nid = \"x\"\n",
         "labels.values: expected an array, got a table"},
        {"rewind as date", with("[source]\n", "[source]\nrewind_seconds = 1979-05-27\n"),
         "source.rewind_seconds: expected an integer, got a date"},
        {"log level bad", kBase + "\n[log]\nlevel = \"verbose\"\n",
         "log.level: \"verbose\" must be one of \"debug\", \"info\", \"warn\", \"error\", \"off\""},
        {"empty admin token file", kBase + "\n[admin]\ntoken_file = \"\"\n",
         "admin.token_file: must not be empty"},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            std::string errors = errors_of(c.text);
            INFO("errors:\n" << errors);
            CHECK(errors.find(c.expected) != std::string::npos);
            // One mistake, one line: no knock-on noise from the other sections.
            CHECK(line_count(errors) == 1);
        }
    }
}

TEST_CASE("all problems are reported together, one per line") {
    std::string text = with("did:plc:randomlabelerdevelopment", "did:foo");
    text = with("127.0.0.1:8080", "1.2.3.4", text);
    text = with("id = \"kyo\"", "id = \"Kyo_1\"", text);
    text = with("listen = ", "lisen = \"x\"\nlisten = ", text);
    text = with("signing_key_file = \"keys/development.key\"\n", "", text);
    std::string errors = errors_of(text);
    INFO(errors);
    CHECK(line_count(errors) == 5);
    CHECK(errors.find("test/profile.toml: labeler.did: \"did:foo\" is not a valid DID") !=
          std::string::npos);
    CHECK(errors.find("test/profile.toml: server.listen: \"1.2.3.4\" needs HOST:PORT") !=
          std::string::npos);
    CHECK(errors.find("test/profile.toml: labels.values[1].id: \"Kyo_1\" must match ^[a-z-]+$") !=
          std::string::npos);
    CHECK(errors.find("test/profile.toml: unknown key \"lisen\" in [server]") != std::string::npos);
    CHECK(errors.find("test/profile.toml: labeler.signing_key_file: missing") != std::string::npos);
    auto r = parse_profile(text, kFile);
    CHECK(r.error().code == int(errc::invalid));
}

TEST_CASE("TOML syntax errors name the line and column") {
    std::string text = with("[storage]\n", "[storage]\npath = = 3\n");
    auto r = parse_profile(text, kFile);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == int(errc::syntax));
    INFO(r.error().message);
    // [storage] is on line 10 of kBase, so the broken line is 11.
    CHECK(r.error().message.rfind("test/profile.toml:11:", 0) == 0);
    CHECK(r.error().message.find("TOML syntax error") != std::string::npos);

    auto dup = parse_profile("environment = \"again\"\n" + kBase, kFile);
    REQUIRE_FALSE(dup.has_value());
    CHECK(dup.error().code == int(errc::syntax));

    auto unterminated = parse_profile("environment = \"dev\n", kFile);
    REQUIRE_FALSE(unterminated.has_value());
    CHECK(unterminated.error().message.rfind("test/profile.toml:1:", 0) == 0);
}

TEST_CASE("load_profile reads files and explains unreadable ones") {
    char tmpl[] = "/tmp/config-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    std::filesystem::path dir(tmpl);
    auto file = dir / "dev.toml";
    std::ofstream(file) << kBase;
    auto r = load_profile(file);
    INFO((r.has_value() ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    CHECK(r->file == file);
    CHECK(r->environment == "development");

    auto missing = load_profile(dir / "nope.toml");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == int(errc::io));
    CHECK(missing.error().message.find((dir / "nope.toml").string() + ": cannot read") == 0);

    auto as_dir = load_profile(dir);
    REQUIRE_FALSE(as_dir.has_value());
    CHECK(as_dir.error().code == int(errc::io));

    std::ofstream(dir / "bad.toml") << with("127.0.0.1:8080", "nowhere");
    auto bad = load_profile(dir / "bad.toml");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message ==
          (dir / "bad.toml").string() + ": server.listen: \"nowhere\" needs HOST:PORT");
    std::filesystem::remove_all(dir);
}

TEST_CASE("the shipped profiles load") {
    const std::filesystem::path root = LABELER_SOURCE_DIR;
    for (const char* env : {"development", "staging", "production"}) {
        auto path = root / "config" / (std::string(env) + ".toml");
        auto r = load_profile(path);
        INFO(path << ": " << (r.has_value() ? std::string() : r.error().message));
        REQUIRE(r.has_value());
        CHECK(r->environment == env);
        REQUIRE(r->values.size() == 7);
        std::vector<std::string> ids;
        for (auto& v : r->values) {
            ids.push_back(v.id);
            CHECK(v.locales.size() == 2);
            CHECK(v.locales[0].lang == "ja");
            CHECK(v.locales[1].lang == "en");
        }
        CHECK(ids == std::vector<std::string>{"daikichi", "kichi", "chukichi", "shokichi",
                                              "suekichi", "kyo", "daikyo"});
    }
    auto dev = load_profile(root / "config/development.toml");
    REQUIRE(dev.has_value());
    CHECK(dev->labeler_did == "did:plc:randomlabelerdevelopment");
    CHECK(dev->signing_key_file == "keys/development.key");
    CHECK(dev->server.host == "127.0.0.1");
    CHECK(dev->server.port == 8080);
    CHECK(dev->storage.path == "data/development");
    CHECK(dev->source.kind == source_config::kind_t::file);
    CHECK(dev->source.file == "config/samples/development.jsonl");
    CHECK(dev->source.format == source_config::file_format::jetstream);
    CHECK_FALSE(dev->source.pace_recorded);
    auto prod = load_profile(root / "config/production.toml");
    REQUIRE(prod.has_value());
    CHECK(prod->source.kind == source_config::kind_t::jetstream);
    CHECK(prod->source.urls.at(0) == "wss://jetstream1.us-east.bsky.network/subscribe");
}
