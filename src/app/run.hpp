#pragma once
// The `run` command: opens the store (checking the environment stamp), loads the signing key,
// starts the one Beast listener and the pipeline, and runs until SIGTERM/SIGINT, then shuts
// down gracefully (stop accepting, close WebSockets with a close frame, drain the pipeline,
// flush the store) and returns 0. Startup errors are printed to stderr and return non-zero.
#include <cstdint>
#include <optional>

#include "src/config/profile.hpp"

namespace labeler::app {

int run(const config::profile& profile, std::optional<std::uint64_t> cursor);

}  // namespace labeler::app
