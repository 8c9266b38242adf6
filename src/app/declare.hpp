#pragma once
// `declare`: the app.bsky.labeler.service record (rkey "self") for a profile's label set, as
// pretty-printed JSON. subjectTypes/reasonTypes/subjectCollections are empty arrays so that
// the Bluesky app offers no reports to this labeler, which cannot handle any (protocol.md §6).
#include <string>
#include <string_view>

#include "src/config/profile.hpp"

namespace labeler::app {

// The record as JSON (ends with a newline); `created_at` is an atproto datetime.
std::string declaration_json(const config::profile& profile, std::string_view created_at);

}  // namespace labeler::app
