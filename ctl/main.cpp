// mpiod-ctl: the operator's command-line client for mpiod's control socket.
#include <iostream>

#include "ctl/cli.hpp"

int main(int argc, char** argv) {
    return mpiod::ctl::run_cli(argc, argv, std::cout, std::cerr);
}
