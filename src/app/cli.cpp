// The command-line dispatcher. Exit statuses: 0 success, 1 a command that ran and failed
// (e.g. `config check` found problems, keygen could not write), 2 usage errors and profiles
// that do not load; `run` returns whatever app::run returns.
#include "src/app/cli.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/app/config_check.hpp"
#include "src/app/declare.hpp"
#include "src/app/run.hpp"
#include "src/atproto/crypto.hpp"
#include "src/atproto/datetime.hpp"
#include "src/common/log.hpp"
#include "src/config/profile.hpp"

#ifndef LABELER_VERSION
#define LABELER_VERSION "0.1.0"
#endif

namespace labeler::app {
namespace {

constexpr std::string_view kUsage =
    "usage: random-labeler <command> [options]\n"
    "\n"
    "commands:\n"
    "  run --config FILE [--cursor N] [--log-level L]\n"
    "                             run the labeler with one environment's profile\n"
    "  keygen --out FILE          write a new secp256k1 signing key, print its did:key\n"
    "  declare --config FILE      print the app.bsky.labeler.service record (JSON)\n"
    "  config check FILE...       validate profiles and check they are isolated\n"
    "\n"
    "planned (not implemented yet):\n"
    "  check --url URL [...]      post-deploy end-to-end check\n"
    "  backfill --config FILE     label existing followers\n"
    "  reconcile --config FILE [--dry-run]\n"
    "                             repair drift against the AppView\n"
    "\n"
    "options:\n"
    "  -h, --help                 show help (also after any command: random-labeler run --help)\n"
    "  --version                  print the version\n";

struct command_spec {
    std::string_view name;         // "run", "config check"
    std::string_view synopsis;     // after "usage: random-labeler "
    std::string_view description;  // the rest of --help
    std::vector<std::string_view> value_flags;
    std::vector<std::string_view> bool_flags;
    bool positional = false;  // accepts FILE... operands
};

const std::vector<command_spec>& specs() {
    static const std::vector<command_spec> kSpecs = {
        {"run",
         "run --config FILE [--cursor N] [--log-level L]",
         "Runs the labeler: opens the store, loads the signing key, serves HTTP/WebSocket on\n"
         "server.listen and labels followers until SIGTERM/SIGINT.\n"
         "\n"
         "  --config FILE     the environment's profile (TOML)\n"
         "  --cursor N        replay the source from N (Jetstream time_us or firehose seq);\n"
         "                    overrides source.cursor and the stored cursor\n"
         "  --log-level L     debug|info|warn|error|off; overrides log.level\n"
         "\n"
         "A profile that does not load is reported on stderr with exit status 2.\n",
         {"--config", "--cursor", "--log-level"},
         {},
         false},
        {"keygen",
         "keygen --out FILE",
         "Writes a new secp256k1 private key to FILE (hex, mode 0600) and prints its did:key on\n"
         "stdout (publish it as the #atproto_label verification method). Never overwrites an\n"
         "existing file; missing parent folders are created (mode 0700).\n"
         "\n"
         "  --out FILE        where to write the key\n",
         {"--out"},
         {},
         false},
        {"declare",
         "declare --config FILE",
         "Prints the app.bsky.labeler.service record (rkey \"self\") for the profile's label set\n"
         "as JSON: policies.labelValues, policies.labelValueDefinitions, createdAt (now), and\n"
         "empty subjectTypes/reasonTypes/subjectCollections so that no reports are sent.\n"
         "\n"
         "  --config FILE     the environment's profile (TOML)\n",
         {"--config"},
         {},
         false},
        {"config check",
         "config check FILE...",
         "Validates each profile, then checks that they are isolated from one another: distinct\n"
         "environment names, storage paths neither equal nor nested, distinct signing key files\n"
         "and keys, listen addresses that do not collide. A labeler DID shared by two profiles\n"
         "is a warning. Prints \"ok FILE (...)\" per valid profile and every problem; exit\n"
         "status 0 only when all is well, 1 otherwise.\n",
         {},
         {},
         true},
        {"check",
         "check --url URL [...]",
         "Post-deploy end-to-end check with real requests (planned, not implemented yet).\n",
         {"--url"},
         {},
         false},
        {"backfill",
         "backfill --config FILE",
         "Labels accounts that already follow the labeler (planned, not implemented yet).\n",
         {"--config"},
         {},
         false},
        {"reconcile",
         "reconcile --config FILE [--dry-run]",
         "Repairs drift between the store and the AppView's followers (planned, not\n"
         "implemented yet).\n",
         {"--config"},
         {"--dry-run"},
         false},
    };
    return kSpecs;
}

const command_spec* find_spec(std::string_view name) {
    for (const auto& s : specs())
        if (s.name == name) return &s;
    return nullptr;
}

struct parsed_args {
    std::map<std::string, std::string, std::less<>> values;
    std::vector<std::string> operands;
    bool help = false;
};

int usage_error(std::string_view command, std::string_view message) {
    std::cerr << "random-labeler" << (command.empty() ? "" : " ") << command << ": " << message
              << '\n';
    if (auto* s = find_spec(command))
        std::cerr << "usage: random-labeler " << s->synopsis << '\n'
                  << "(random-labeler " << command << " --help for details)\n";
    else
        std::cerr << kUsage;
    return 2;
}

// Parses `args` against `spec`; nullopt after printing a usage error.
std::optional<parsed_args> parse(const command_spec& spec, const std::vector<std::string>& args) {
    parsed_args out;
    bool only_operands = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (only_operands || a.empty() || a[0] != '-' || a == "-") {
            if (!spec.positional) {
                usage_error(spec.name, "unexpected argument \"" + std::string(a) + "\"");
                return std::nullopt;
            }
            out.operands.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_operands = true;
            continue;
        }
        if (a == "--help" || a == "-h") {
            out.help = true;
            continue;
        }
        std::string_view name = a, value;
        bool has_value = false;
        if (auto eq = a.find('='); eq != std::string_view::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        auto is = [&](const std::vector<std::string_view>& v) {
            return std::find(v.begin(), v.end(), name) != v.end();
        };
        if (is(spec.bool_flags)) {
            if (has_value) {
                usage_error(spec.name, "option " + std::string(name) + " takes no value");
                return std::nullopt;
            }
            out.values[std::string(name)] = "true";
            continue;
        }
        if (!is(spec.value_flags)) {
            usage_error(spec.name, "unknown option " + std::string(name));
            return std::nullopt;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) {
                usage_error(spec.name, "option " + std::string(name) + " needs a value");
                return std::nullopt;
            }
            value = args[++i];
        }
        if (out.values.count(name)) {
            usage_error(spec.name, "option " + std::string(name) + " given twice");
            return std::nullopt;
        }
        out.values[std::string(name)] = std::string(value);
    }
    return out;
}

int print_help(const command_spec& spec) {
    std::cout << "usage: random-labeler " << spec.synopsis << "\n\n" << spec.description;
    return 0;
}

// The value of a required option, or nullopt after printing a usage error.
std::optional<std::string> required(const command_spec& spec, const parsed_args& a,
                                    std::string_view flag) {
    auto it = a.values.find(flag);
    if (it == a.values.end() || it->second.empty()) {
        usage_error(spec.name, "missing " + std::string(flag) + " FILE");
        return std::nullopt;
    }
    return it->second;
}

int cmd_run(const command_spec& spec, const parsed_args& a) {
    auto file = required(spec, a, "--config");
    if (!file) return 2;
    std::optional<std::uint64_t> cursor;
    if (auto it = a.values.find("--cursor"); it != a.values.end()) {
        const std::string& s = it->second;
        std::uint64_t v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size())
            return usage_error(spec.name,
                               "--cursor needs a non-negative integer, got \"" + s + "\"");
        cursor = v;
    }
    std::optional<std::string> level;
    if (auto it = a.values.find("--log-level"); it != a.values.end()) {
        level = it->second;
        if (!set_log_level(*level))
            return usage_error(spec.name, "--log-level must be debug, info, warn, error or off");
    }
    auto profile = config::load_profile(*file);
    if (!profile) {
        std::cerr << profile.error().message << '\n';
        return 2;
    }
    if (!level) set_log_level(profile->log_level);
    if (!cursor) cursor = profile->source.cursor;
    return run(*profile, cursor);
}

int cmd_keygen(const command_spec& spec, const parsed_args& a) {
    auto out = required(spec, a, "--out");
    if (!out) return 2;
    namespace fs = std::filesystem;
    fs::path path(*out);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) {
        std::cerr << "random-labeler keygen: " << path.string()
                  << " already exists; refusing to overwrite a key\n";
        return 1;
    }
    if (path.has_parent_path() && !fs::exists(path.parent_path(), ec)) {
        fs::create_directories(path.parent_path(), ec);
        if (ec) {
            std::cerr << "random-labeler keygen: cannot create " << path.parent_path().string()
                      << ": " << ec.message() << '\n';
            return 1;
        }
        ::chmod(path.parent_path().c_str(), 0700);
    }
    auto key = atproto::private_key::generate();
    if (auto saved = key.save_file(path); !saved) {
        std::cerr << "random-labeler keygen: " << saved.error().message << '\n';
        return 1;
    }
    std::cout << key.did_key() << '\n';
    std::cerr << "wrote " << path.string()
              << " (mode 0600); publish the did:key above as #atproto_label\n";
    return 0;
}

int cmd_declare(const command_spec& spec, const parsed_args& a) {
    auto file = required(spec, a, "--config");
    if (!file) return 2;
    auto profile = config::load_profile(*file);
    if (!profile) {
        std::cerr << profile.error().message << '\n';
        return 2;
    }
    std::cout << declaration_json(*profile,
                                  atproto::format_datetime(std::chrono::system_clock::now()));
    return 0;
}

int cmd_config_check(const command_spec& spec, const parsed_args& a) {
    if (a.operands.empty()) return usage_error(spec.name, "needs at least one profile FILE");
    return config_check(a.operands, std::cout, std::cerr);
}

int cmd_planned(const command_spec& spec, const parsed_args&) {
    std::cerr << "random-labeler " << spec.name << ": not implemented yet\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string& first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
        std::cout << kUsage;
        return 0;
    }
    if (first == "--version") {
        std::cout << "random-labeler " << LABELER_VERSION << '\n';
        return 0;
    }
    std::string name = first;
    std::size_t skip = 1;
    if (first == "config") {
        if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
            if (args.size() >= 2) return print_help(*find_spec("config check"));
            return usage_error("config", "needs a subcommand: config check FILE...");
        }
        if (args[1] != "check")
            return usage_error("config", "unknown subcommand \"" + args[1] + "\"");
        name = "config check";
        skip = 2;
    }
    const command_spec* spec = find_spec(name);
    if (!spec) {
        if (!first.empty() && first[0] == '-') return usage_error("", "unknown option " + first);
        return usage_error("", "unknown command \"" + first + "\"");
    }
    auto parsed = parse(*spec, std::vector<std::string>(args.begin() + skip, args.end()));
    if (!parsed) return 2;
    if (parsed->help) return print_help(*spec);
    try {
        if (name == "run") return cmd_run(*spec, *parsed);
        if (name == "keygen") return cmd_keygen(*spec, *parsed);
        if (name == "declare") return cmd_declare(*spec, *parsed);
        if (name == "config check") return cmd_config_check(*spec, *parsed);
        return cmd_planned(*spec, *parsed);
    } catch (const std::exception& e) {
        std::cerr << "random-labeler " << name << ": " << e.what() << '\n';
        return 1;
    }
}

}  // namespace labeler::app
