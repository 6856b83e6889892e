/*
 * glibc-c23-shim: the two C23 entry points Debian sid's Apptainer binaries
 * need on Debian 12 (glibc 2.36).
 *
 * glibc 2.38 compiles strtol()/strtoul() calls in C2x mode to
 * __isoc23_strtol()/__isoc23_strtoul(). The only behavioural difference from
 * the classic functions is that base 0 and base 2 also accept a "0b"/"0B"
 * prefix. This library provides both symbols (unversioned) on top of the
 * classic functions, including the binary prefix.
 *
 * scripts/install-apptainer builds it as libglibc-c23-shim.so.1, adds it as
 * DT_NEEDED to the Apptainer binaries with patchelf, clears the GLIBC_2.38
 * version of these symbols, and rewrites the leftover GLIBC_2.38 version
 * requirement with scripts/fix-verneed.py.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

/* If nptr (after blanks and a sign) starts a C23 binary literal that the
 * given base allows, parse it and return 1; otherwise return 0. */
static int parse_binary(const char *nptr, char **endptr, int base, int *neg,
                        unsigned long *value, int *overflow) {
  const char *p = nptr;
  if (base != 0 && base != 2) return 0;
  while (isspace((unsigned char)*p)) p++;
  *neg = 0;
  if (*p == '+' || *p == '-') {
    *neg = (*p == '-');
    p++;
  }
  if (p[0] != '0' || (p[1] != 'b' && p[1] != 'B') || (p[2] != '0' && p[2] != '1'))
    return 0;
  int saved = errno;
  errno = 0;
  char *end;
  *value = strtoul(p + 2, &end, 2); /* p + 2 starts with a binary digit: no sign, no blanks */
  *overflow = (errno == ERANGE);
  errno = saved;
  if (endptr) *endptr = end;
  return 1;
}

long __isoc23_strtol(const char *nptr, char **endptr, int base) {
  int neg, overflow;
  unsigned long u;
  if (!parse_binary(nptr, endptr, base, &neg, &u, &overflow))
    return strtol(nptr, endptr, base);
  if (!neg) {
    if (overflow || u > (unsigned long)LONG_MAX) {
      errno = ERANGE;
      return LONG_MAX;
    }
    return (long)u;
  }
  if (overflow || u > (unsigned long)LONG_MAX + 1UL) {
    errno = ERANGE;
    return LONG_MIN;
  }
  return u == (unsigned long)LONG_MAX + 1UL ? LONG_MIN : -(long)u;
}

unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base) {
  int neg, overflow;
  unsigned long u;
  if (!parse_binary(nptr, endptr, base, &neg, &u, &overflow))
    return strtoul(nptr, endptr, base);
  if (overflow) {
    errno = ERANGE;
    return ULONG_MAX;
  }
  return neg ? -u : u;
}
