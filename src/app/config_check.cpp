#include "src/app/config_check.hpp"

#include <filesystem>
#include <system_error>

#include "src/config/profile.hpp"

namespace labeler::app {

int config_check(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
    std::vector<config::profile> loaded;
    std::size_t problems = 0;
    for (const auto& f : files) {
        auto p = config::load_profile(f);
        if (!p) {
            err << p.error().message << '\n';
            err << "FAILED " << f << '\n';
            ++problems;
            continue;
        }
        out << "ok " << f << " (environment " << p->environment << ", did " << p->labeler_did
            << ")\n";
        std::error_code ec;
        if (!std::filesystem::exists(p->signing_key_file, ec))
            err << "note: " << f << ": labeler.signing_key_file " << p->signing_key_file.string()
                << " does not exist yet (random-labeler keygen --out "
                << p->signing_key_file.string() << ")\n";
        loaded.push_back(std::move(*p));
    }
    auto report = config::check_isolation(loaded);
    for (const auto& w : report.warnings) err << "warning: " << w << '\n';
    for (const auto& p : report.problems) err << p << '\n';
    problems += report.problems.size();
    out.flush();
    if (problems == 0) {
        out << (files.size() == 1 ? "1 profile is valid\n"
                                  : std::to_string(files.size()) +
                                        " profiles are valid and isolated from one another\n");
        return 0;
    }
    err << "config check failed\n";
    return 1;
}

}  // namespace labeler::app
