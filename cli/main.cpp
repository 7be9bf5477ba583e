// accelgen command-line entry point; the subcommands live in cli/commands.cpp.
#include "cli/commands.h"

int main(int argc, char** argv) { return accelgen::cli::run_main(argc, argv); }
