// PLACEHOLDER, replaced by the serving work: the real wiring of store, server and pipeline.
#include "src/app/run.hpp"

#include <cstdio>

namespace labeler::app {

int run(const config::profile&, std::optional<std::uint64_t>) {
    std::fputs("random-labeler run: not built yet\n", stderr);
    return 70;
}

}  // namespace labeler::app
