#include "src/app/declare.hpp"

#include <fmt/format.h>

#include "src/atproto/json.hpp"

namespace labeler::app {
namespace {

// JSON string literal (shared escaper; profile strings are valid UTF-8, toml++ guarantees it).
std::string json_string(std::string_view s) {
    std::string out;
    atproto::append_json_string(out, s);
    return out;
}

}  // namespace

std::string declaration_json(const config::profile& profile, std::string_view created_at) {
    std::string out;
    out += "{\n";
    out += "  \"$type\": \"app.bsky.labeler.service\",\n";
    out += "  \"policies\": {\n";
    out += "    \"labelValues\": [";
    for (std::size_t i = 0; i < profile.values.size(); ++i)
        out += (i ? ", " : "") + json_string(profile.values[i].id);
    out += "],\n";
    out += "    \"labelValueDefinitions\": [";
    for (std::size_t i = 0; i < profile.values.size(); ++i) {
        const auto& v = profile.values[i];
        out += i ? ",\n" : "\n";
        out += "      {\n";
        out += fmt::format("        \"identifier\": {},\n", json_string(v.id));
        out += fmt::format("        \"severity\": {},\n", json_string(v.severity));
        out += fmt::format("        \"blurs\": {},\n", json_string(v.blurs));
        out += fmt::format("        \"defaultSetting\": {},\n", json_string(v.default_setting));
        out += fmt::format("        \"adultOnly\": {},\n", v.adult_only ? "true" : "false");
        out += "        \"locales\": [";
        for (std::size_t j = 0; j < v.locales.size(); ++j) {
            const auto& l = v.locales[j];
            out += j ? ",\n" : "\n";
            out +=
                fmt::format("          {{\"lang\": {}, \"name\": {}, \"description\": {}}}",
                            json_string(l.lang), json_string(l.name), json_string(l.description));
        }
        out += v.locales.empty() ? "]\n" : "\n        ]\n";
        out += "      }";
    }
    out += profile.values.empty() ? "]\n" : "\n    ]\n";
    out += "  },\n";
    out += "  \"subjectTypes\": [],\n";
    out += "  \"reasonTypes\": [],\n";
    out += "  \"subjectCollections\": [],\n";
    out += fmt::format("  \"createdAt\": {}\n", json_string(created_at));
    out += "}\n";
    return out;
}

}  // namespace labeler::app
