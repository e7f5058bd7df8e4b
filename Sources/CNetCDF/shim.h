// netCDF-C 4.x (Debian libnetcdf-dev). Not thread-safe: Datasets serializes every call.
#include <netcdf.h>
#include <stdint.h>

// HDF5 prints its error stack to stderr from any thread on which netCDF did not silence it
// (netCDF does so only on the thread that first initialized HDF5). Datasets calls this on
// each thread before its first netCDF call; netCDF still reports the error through its status.
// Declared here rather than by including hdf5.h, whose path differs between HDF5 flavours.
extern int H5Eset_auto2(int64_t estack_id, void *func, void *client_data);

// HDF5 calls for copying compressed chunks between netCDF-4 files without decompressing them
// (Datasets' DatasetConcatenation; HDF5 1.10.3 or newer). hid_t is int64_t, hsize_t is
// unsigned long long and herr_t is int in every HDF5 1.10+ build.
extern int64_t H5Fopen(const char *name, unsigned flags, int64_t fapl_id);
extern int H5Fclose(int64_t file_id);
extern int64_t H5Dopen2(int64_t loc_id, const char *name, int64_t dapl_id);
extern int H5Dclose(int64_t dset_id);
extern int H5Dset_extent(int64_t dset_id, const unsigned long long size[]);
extern int H5Dget_chunk_storage_size(int64_t dset_id, const unsigned long long *offset,
                                     unsigned long long *chunk_bytes);
extern int H5Dread_chunk(int64_t dset_id, int64_t dxpl_id, const unsigned long long *offset,
                         uint32_t *filters, void *buf);
extern int H5Dwrite_chunk(int64_t dset_id, int64_t dxpl_id, uint32_t filters,
                          const unsigned long long *offset, size_t data_size, const void *buf);
