// SuiteSparse 5 (Debian libsuitesparse-dev): headers under suitesparse/, no pkg-config file.
#include <suitesparse/SuiteSparse_config.h>
#include <suitesparse/cholmod.h>
#include <suitesparse/umfpack.h>

// Debian builds CHOLMOD and UMFPACK with OpenMP. Parallel data generation runs one solve per
// worker thread and must hold OpenMP to one thread per worker (the ICV is per thread), or the
// workers' OpenMP teams oversubscribe the cores and spin. Declared here rather than by including
// omp.h, which lives in the compiler's private include directory.
extern void omp_set_num_threads(int num_threads);
