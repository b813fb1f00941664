/* dcmprep: the command-line tool.  This file only dispatches to the commands in
 * cli/; each command parses its own options and calls the library. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

#include "cli/cli.h"

static const dp_cli_command *const commands[] = {&dp_cli_scan, &dp_cli_convert, &dp_cli_prep, &dp_cli_augment, &dp_cli_batch, &dp_cli_preview, &dp_cli_stats, &dp_cli_info, NULL};

static void print_usage(FILE *f) {
  fputs("usage: dcmprep <command> [options]\n"
        "       dcmprep help <command>\n"
        "       dcmprep --version\n\n"
        "commands:\n",
        f);
  for (int i = 0; commands[i]; i++) fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fputs("\nExit status: 0 success, 1 error, 2 usage error.\n", f);
}

static int print_version(void) {
  printf("dcmprep %s\n", dp_version());
  printf("DCMTK %s, zlib %s, libdeflate %s\n", dp_dicom_toolkit_version(), zlibVersion(),
         LIBDEFLATE_VERSION_STRING);
  puts("transfer syntaxes decoded:");
  for (const char *const *ts = dp_supported_transfer_syntaxes(); *ts; ts++) printf("  %s\n", *ts);
  return DP_EXIT_OK;
}

static const dp_cli_command *find_command(const char *name) {
  for (int i = 0; commands[i]; i++)
    if (strcmp(commands[i]->name, name) == 0) return commands[i];
  return NULL;
}

static int help(int argc, char **argv) {
  if (argc < 3) {
    print_usage(stdout);
    return DP_EXIT_OK;
  }
  const dp_cli_command *c = find_command(argv[2]);
  if (!c) {
    fprintf(stderr, "dcmprep: no command '%s'\n", argv[2]);
    print_usage(stderr);
    return DP_EXIT_USAGE;
  }
  if (c->usage) fputs(c->usage, stdout);
  else c->help(stdout);
  return DP_EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return DP_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) return print_version();
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    print_usage(stdout);
    return DP_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0) return help(argc, argv);
  const dp_cli_command *c = find_command(cmd);
  if (!c) {
    fprintf(stderr, "dcmprep: no command '%s'\n", cmd);
    print_usage(stderr);
    return DP_EXIT_USAGE;
  }
  /* Each command sees its own argv: argv[0] = command name. */
  optind = 1;
  return c->run(argc - 1, argv + 1);
}
