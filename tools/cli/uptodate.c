#define _POSIX_C_SOURCE 200809L
/* Content hashes and the up-to-date check (uptodate.h). */
#include <ctype.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/uptodate.h"
#include "core/internal.h"

void dp_cli_hash_init(dp_cli_hash *h) {
  h->crc = 0;
  h->adler = 1;
  h->len = 0;
}

void dp_cli_hash_bytes(dp_cli_hash *h, const void *p, size_t n) {
  h->crc = libdeflate_crc32(h->crc, p, n);
  h->adler = libdeflate_adler32(h->adler, p, n);
  h->len += n;
}

void dp_cli_hash_str(dp_cli_hash *h, const char *s) {
  if (!s) s = "";
  dp_cli_hash_bytes(h, s, strlen(s) + 1);
}

static dp_status hash_file_buf(dp_cli_hash *h, const char *path, unsigned char *buf, size_t bufsize) {
  FILE *f = fopen(path, "rb");
  if (!f) return dp__error(DP_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t n;
  uint64_t total = 0;
  while ((n = fread(buf, 1, bufsize, f)) > 0) {
    dp_cli_hash_bytes(h, buf, n);
    total += n;
  }
  int err = ferror(f);
  fclose(f);
  if (err) return dp__error(DP_EIO, "%s: cannot read", path);
  dp_cli_hash_bytes(h, &total, sizeof total); /* file boundaries count */
  return DP_OK;
}

enum { HASH_BUF = 1 << 20 };

dp_status dp_cli_hash_file(dp_cli_hash *h, const char *path) {
  unsigned char *buf = malloc(HASH_BUF);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  dp_status s = hash_file_buf(h, path, buf, HASH_BUF);
  free(buf);
  return s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

dp_status dp_cli_hash_series(dp_cli_hash *h, const dp_dicom_set *set, int i) {
  int nf = dp_dicom_series_file_count(set, i);
  const char **files = malloc((size_t)(nf > 0 ? nf : 1) * sizeof *files);
  unsigned char *buf = malloc(HASH_BUF);
  dp_status s = files && buf ? DP_OK : dp__error(DP_ENOMEM, "out of memory");
  for (int k = 0; s == DP_OK && k < nf; k++) files[k] = dp_dicom_series_file(set, i, k);
  if (s == DP_OK) qsort(files, (size_t)nf, sizeof *files, cmp_str); /* frames repeat a file */
  for (int k = 0; s == DP_OK && k < nf; k++)
    if (k == 0 || strcmp(files[k], files[k - 1]) != 0) s = hash_file_buf(h, files[k], buf, HASH_BUF);
  free(files);
  free(buf);
  return s;
}

void dp_cli_hash_hex(const dp_cli_hash *h, char out[DP_CLI_HASH_HEX]) {
  snprintf(out, DP_CLI_HASH_HEX, "%08x%08x%012llx", (unsigned)h->crc, (unsigned)h->adler,
           (unsigned long long)(h->len & 0xFFFFFFFFFFFFULL));
}

/* The text of the JSON string starting at p (after its opening quote), up
 * to size - 1 bytes; \uXXXX escapes become UTF-8 (surrogates as '?'). */
static void unescape(const char *p, char *out, size_t size) {
  size_t k = 0;
  while (*p && *p != '"' && k + 4 < size) {
    if (*p != '\\') {
      out[k++] = *p++;
      continue;
    }
    p++;
    char e = 0;
    switch (*p) {
      case '"': case '\\': case '/': e = *p; break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      default: break;
    }
    if (e) {
      out[k++] = e;
      p++;
    } else if (*p == 'u') {
      unsigned long c = 0;
      int i = 0;
      for (; i < 4 && isxdigit((unsigned char)p[1 + i]); i++)
        c = c * 16 + (unsigned long)(isdigit((unsigned char)p[1 + i]) ? p[1 + i] - '0' : (p[1 + i] | 0x20) - 'a' + 10);
      if (i < 4) break;
      p += 5;
      if (c >= 0xD800 && c <= 0xDFFF) c = '?';
      if (c < 0x80) {
        out[k++] = (char)c;
      } else if (c < 0x800) {
        out[k++] = (char)(0xC0 | (c >> 6));
        out[k++] = (char)(0x80 | (c & 0x3F));
      } else {
        out[k++] = (char)(0xE0 | (c >> 12));
        out[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[k++] = (char)(0x80 | (c & 0x3F));
      }
    } else {
      break; /* not JSON */
    }
  }
  out[k] = '\0';
}

/* The hash keys are written last (after PrepSteps, which may be long), so
 * the whole sidecar is read. */
void dp_cli_sidecar_value(const char *nifti, const char *key, char *out, size_t size) {
  out[0] = '\0';
  char side[4400], quoted[128];
  if (dp_sidecar_path(nifti, side, sizeof side) != DP_OK) return;
  int qn = snprintf(quoted, sizeof quoted, "\"%s\"", key);
  if (qn < 0 || (size_t)qn >= sizeof quoted) return;
  FILE *f = fopen(side, "rb");
  if (!f) return;
  char *buf = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && n <= (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)))
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
  fclose(f);
  /* our own writer's layout: "KEY": "<value>" (the last such key) */
  const char *p = NULL;
  for (const char *q = buf; q && (q = strstr(q, quoted)); q++) {
    const char *e = q + qn;
    while (*e == ' ') e++;
    if ((q == buf || q[-1] != '\\') && *e == ':') p = e + 1; /* a key, not a value or text inside one */
  }
  if (p) {
    while (*p == ' ') p++;
    if (*p == '[' || *p == '{') p = "";
    if (*p == '"') {
      unescape(p + 1, out, size);
    } else { /* a number, true, false or null: up to the next separator */
      size_t k = 0;
      while (p[k] && !strchr(",}] \t\r\n", p[k]) && k + 1 < size) k++;
      memcpy(out, p, k);
      out[k] = '\0';
    }
  }
  free(buf);
}

int dp_cli_is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dp_cli_up_to_date(const char *nifti, const char *key, const char *hex) {
  if (!dp_cli_is_file(nifti)) return 0;
  char had[DP_CLI_HASH_HEX + 8];
  dp_cli_sidecar_value(nifti, key, had, sizeof had);
  return strcmp(had, hex) == 0;
}
