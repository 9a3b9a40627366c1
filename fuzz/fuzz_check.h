// FUZZ_CHECK: an invariant a fuzz target asserts beyond "does not crash"; a violation
// aborts, so libFuzzer keeps the input that caused it.
// Thread-safety: libFuzzer runs one input at a time.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
