// Open MPI for the optional MPI build (`swift build --traits MPI`; Debian: libopenmpi-dev).
// Open MPI's handles are macros over addresses of global objects, which Swift cannot import;
// these inline functions return them.
#include <mpi.h>

static inline MPI_Comm pdekit_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm pdekit_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype pdekit_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype pdekit_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype pdekit_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Op pdekit_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op pdekit_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op pdekit_mpi_max(void) { return MPI_MAX; }
static inline MPI_Info pdekit_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Errhandler pdekit_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *pdekit_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *pdekit_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request pdekit_mpi_request_null(void) { return MPI_REQUEST_NULL; }
