// OpenBLAS CBLAS + LAPACKE. Debian: libopenblas-dev, liblapacke-dev.
// OpenBLAS's cblas.h needs its complex struct typedefs when included from a non-C99-complex
// context; LAPACKE must not use C99 _Complex (Swift cannot import it), so we supply our own
// layout-compatible complex types.
#ifndef PDEKIT_CBLAS_SHIM_H
#define PDEKIT_CBLAS_SHIM_H
#define FORCE_OPENBLAS_COMPLEX_STRUCT 1
#include <cblas.h>

typedef struct { float real; float imag; } pdekit_complex_float;
typedef struct { double real; double imag; } pdekit_complex_double;
#define LAPACK_COMPLEX_CUSTOM 1
#define lapack_complex_float pdekit_complex_float
#define lapack_complex_double pdekit_complex_double
#include <lapacke.h>
#endif
