// netCDF-C 4.x (Debian libnetcdf-dev). Not thread-safe: Datasets serializes every call.
#include <netcdf.h>
#include <stdint.h>

// HDF5 prints its error stack to stderr from any thread on which netCDF did not silence it
// (netCDF does so only on the thread that first initialized HDF5). Datasets calls this on
// each thread before its first netCDF call; netCDF still reports the error through its status.
// Declared here rather than by including hdf5.h, whose path differs between HDF5 flavours.
extern int H5Eset_auto2(int64_t estack_id, void *func, void *client_data);
