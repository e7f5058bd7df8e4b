// FFTW 3 (double and single precision, with threads). Debian: libfftw3-dev.
#include <fftw3.h>
