#include "src/app/cli.hpp"

#include <cstdio>
#include <string_view>

namespace labeler::app {

int main(int argc, char** argv) {
    std::fputs("usage: random-labeler <run|keygen|declare|check|config check> [--help]\n", stdout);
    return argc > 1 && std::string_view(argv[1]) == "--help" ? 0 : 2;
}

}  // namespace labeler::app
