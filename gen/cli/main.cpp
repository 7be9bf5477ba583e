// accelgen command-line entry point; the subcommands live in gen/cli/commands.cpp.
#include "gen/cli/commands.h"

int main(int argc, char** argv) { return accelgen::cli::run_main(argc, argv); }
