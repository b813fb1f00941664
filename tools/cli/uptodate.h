/* Content hashes and the up-to-date check shared by batch and convert.
 *
 * An output is up to date when its sidecar records, under a key of the
 * command's (BatchHash, ConvertHash), the hash of everything that makes it:
 * the contents of the input files, the settings, the dcmprep version.  Paths
 * are not hashed, so moving the inputs changes nothing. */
#ifndef DCMPREP_TOOLS_UPTODATE_H
#define DCMPREP_TOOLS_UPTODATE_H

#include <stddef.h>
#include <stdint.h>

#include "dcmprep/dcmprep.h"

/* CRC-32 and Adler-32 (libdeflate) of the bytes, and their count. */
typedef struct dp_cli_hash {
  uint32_t crc, adler;
  uint64_t len;
} dp_cli_hash;

/* Room for dp_cli_hash_hex's text: 28 hex digits and the terminator. */
#define DP_CLI_HASH_HEX 29

void dp_cli_hash_init(dp_cli_hash *h);
void dp_cli_hash_bytes(dp_cli_hash *h, const void *p, size_t n);

/* Adds s and its terminator (NULL counts as ""), so that "ab","c" and
 * "a","bc" differ. */
void dp_cli_hash_str(dp_cli_hash *h, const char *s);

/* Adds a file's contents, then its length (file boundaries count).
 * DP_EIO (naming the file) when it cannot be read. */
dp_status dp_cli_hash_file(dp_cli_hash *h, const char *path);

/* Adds the contents of every file of series i of set, each once, in the
 * order of their paths (a multi-frame file is listed once per frame). */
dp_status dp_cli_hash_series(dp_cli_hash *h, const dp_dicom_set *set, int i);

/* The hash as text (DP_CLI_HASH_HEX bytes with the terminator). */
void dp_cli_hash_hex(const dp_cli_hash *h, char out[DP_CLI_HASH_HEX]);

/* The value of key in the sidecar of the NIfTI file at nifti, as dcmprep
 * writes sidecars (the last such key counts): a string's text (escapes left
 * as they are), or a number's (true, false, null) token; "" when the
 * sidecar or the key is absent or the value is an array or object.  At most
 * size - 1 bytes. */
void dp_cli_sidecar_value(const char *nifti, const char *key, char *out, size_t size);

/* 1 when nifti is a regular file and its sidecar records hex under key. */
int dp_cli_up_to_date(const char *nifti, const char *key, const char *hex);

/* 1 when path is a regular file (following links). */
int dp_cli_is_file(const char *path);

#endif
