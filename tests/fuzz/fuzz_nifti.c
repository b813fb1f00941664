/* libFuzzer harness: the NIfTI reader (header, plain and gzip data) on
 * arbitrary bytes.  Any input must give a volume or an error, never a crash,
 * a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dcmprep/dcmprep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  /* the reader picks gzip by content, but the name matters for the .hdr pair */
  snprintf(path, sizeof path, "/tmp/dp-fuzz-%d.nii", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  dp_volume *v = NULL;
  dp_nifti_info info;
  if (dp_nifti_read_info(path, &info) == DP_OK && dp_nifti_read(path, NULL, &v, NULL) == DP_OK)
    dp_volume_free(v);
  unlink(path);
  return 0;
}
