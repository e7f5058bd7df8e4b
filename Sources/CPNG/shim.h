// libpng 1.6 (Debian libpng-dev): the simplified png_image read/write API, which reports errors
// through the image's message instead of longjmp.
#include <png.h>
