// random-labeler: thin entry point; everything lives in labeler::app.
#include "src/app/cli.hpp"

int main(int argc, char** argv) { return labeler::app::main(argc, argv); }
