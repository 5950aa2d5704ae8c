#pragma once
// Shared by the MPI suite's cases: the process's communicator (made once by mpi_main.cpp).
#include "engine/communicator.hpp"

electra::Communicator& test_communicator();
