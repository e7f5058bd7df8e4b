// SuiteSparse 5 (Debian libsuitesparse-dev): headers under suitesparse/, no pkg-config file.
#include <suitesparse/SuiteSparse_config.h>
#include <suitesparse/cholmod.h>
#include <suitesparse/umfpack.h>
