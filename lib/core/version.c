#include "dcmprep/version.h"

const char *dp_version(void) { return DCMPREP_VERSION_STRING; }
