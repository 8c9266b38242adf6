#pragma once
// `config check FILE...`: validates every profile, then checks that the valid ones are isolated
// from one another (config::check_isolation). Prints "ok FILE (environment E, did D)" per valid
// profile on `out`; problems, warnings and notes (a key file not created yet), one per line,
// on `err`.
#include <ostream>
#include <string>
#include <vector>

namespace labeler::app {

// Returns the exit status: 0 when every profile is valid and isolated, 1 otherwise.
int config_check(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

}  // namespace labeler::app
