// Compiles include/belladonna.h as C++ (built with the tests; C++ hosts include it as is) and
// pins the signatures hosts rely on: a changed one fails to compile here.
#include <belladonna.h>

#include <type_traits>

static_assert(BD_OK == 0 && BD_CANCELLED == 1 && BD_ERR_INVALID_ARGUMENT == -1 &&
                  BD_ERR_IO == -2 && BD_ERR_MODEL == -3 && BD_ERR_OUT_OF_MEMORY == -4 &&
                  BD_ERR_INTERNAL == -5,
              "status values are ABI");
static_assert(std::is_same<decltype(&bd_abi_version), uint32_t (*)()>::value, "bd_abi_version");
static_assert(std::is_same<decltype(&bd_default_params), bd_params (*)()>::value, "bd_default_params");
static_assert(std::is_same<decltype(&bd_open),
                           bd_status (*)(const char*, const char*, bd_context**)>::value, "bd_open");
static_assert(std::is_same<decltype(&bd_close), void (*)(bd_context*)>::value, "bd_close");
static_assert(std::is_same<decltype(&bd_protect),
                           bd_status (*)(bd_context*, const bd_params*, bd_image*)>::value,
              "bd_protect");
static_assert(std::is_same<decltype(&bd_last_error), const char* (*)(const bd_context*)>::value,
              "bd_last_error");
static_assert(std::is_same<bd_progress_fn, int (*)(float, void*)>::value, "bd_progress_fn");
static_assert(std::is_same<decltype(&bd_last_verdict), const char* (*)(const bd_context*)>::value,
              "bd_last_verdict");
static_assert(std::is_same<decltype(&bd_last_visibility), const char* (*)(const bd_context*)>::value,
              "bd_last_visibility");
static_assert(std::is_same<decltype(&bd_purifier_name), const char* (*)(int)>::value, "bd_purifier_name");
static_assert(sizeof(bd_metrics::kept_after_purifiers) == BD_PURIFIERS * sizeof(double), "bd_metrics purifiers");
static_assert(std::is_same<decltype(bd_image::stride), size_t>::value &&
                  std::is_same<decltype(bd_image::bits), uint32_t>::value,
              "bd_image fields");
static_assert(std::is_same<decltype(bd_params::seed), uint64_t>::value &&
                  std::is_same<decltype(bd_params::epsilon), float>::value,
              "bd_params fields");
