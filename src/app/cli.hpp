#pragma once
// Command-line front end: `random-labeler <command> [options]`. Commands and their flags are
// the operator contract in docs/interface.md. Every command answers --help; errors go to
// stderr with a non-zero exit status.
namespace labeler::app {

int main(int argc, char** argv);

}  // namespace labeler::app
