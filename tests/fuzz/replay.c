/* Replays saved inputs through a fuzz harness without libFuzzer, so that
 * crashes once found by fuzzing stay regression tests in every build (gcc or
 * clang, with or without sanitizers).  Linked with one harness source, which
 * provides LLVMFuzzerTestOneInput.
 *
 * usage: replay_<harness> FILE_OR_FOLDER...
 * Each file (folders: every regular file in them, in name order) is read into
 * a buffer of exactly its size and passed to the harness once.  Exit 0 when
 * every input was replayed; 1 when an input could not be read or nothing was
 * replayed at all (an empty regression folder must not pass silently).  A
 * crash, a sanitizer report or a leak ends the process as it would under the
 * fuzzer. */
#define _POSIX_C_SOURCE 200809L /* fileno, stat, opendir */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
    fclose(f);
    fprintf(stderr, "replay: cannot stat %s\n", path);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  /* exactly `size` bytes (malloc(0) may return NULL): a harness reading past
   * the end is caught by AddressSanitizer as under libFuzzer */
  uint8_t *data = malloc(size ? size : 1);
  if (!data || fread(data, 1, size, f) != size) {
    free(data);
    fclose(f);
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  fclose(f);
  printf("replay: %s (%zu bytes)\n", path, size);
  fflush(stdout);  /* the last line names the input if the harness crashes */
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of a folder in name order; returns the count,
 * or -1 on a read error. */
static int replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open folder %s\n", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;  /* ., .. and hidden files (.gitkeep) */
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      char **grown = realloc(names, cap * sizeof *names);
      if (!grown) { rc = -1; break; }
      names = grown;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len))) { rc = -1; break; }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (names) qsort(names, n, sizeof *names, by_name);
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(names[i]) != 0) rc = -1;
      else count++;
    }
    free(names[i]);
  }
  free(names);
  return rc ? -1 : count;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  int total = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s not found\n", argv[i]);
      return 1;
    }
    int n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_file(argv[i]) == 0 ? 1 : -1);
    if (n < 0) return 1;
    total += n;
  }
  if (total == 0) {
    fprintf(stderr, "replay: no inputs found in the given folders\n");
    return 1;
  }
  printf("replay: %d inputs, no crash\n", total);
  return 0;
}
