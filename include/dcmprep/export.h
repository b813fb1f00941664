/* Symbol visibility for the dcmprep library.  The library is built with hidden
 * visibility; only declarations marked DP_API are exported. */
#ifndef DCMPREP_EXPORT_H
#define DCMPREP_EXPORT_H

#if defined(_WIN32)
#  if defined(DCMPREP_BUILDING) && !defined(DCMPREP_STATIC)
#    define DP_API __declspec(dllexport)
#  else
#    define DP_API
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define DP_API __attribute__((visibility("default")))
#else
#  define DP_API
#endif

#endif
