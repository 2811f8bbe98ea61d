# Butteraugli, the visibility figure: libjxl's public API (jxl/butteraugli.h) exists up to
# libjxl 0.8 (Debian 12 has 0.7) and was dropped later. Without it the project still
# builds, and every visibility figure reads "not measured".
set(BELLADONNA_HAVE_BUTTERAUGLI OFF)
if(BELLADONNA_BUTTERAUGLI)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(JXL QUIET IMPORTED_TARGET libjxl libjxl_threads)
  endif()
  if(JXL_FOUND)
    find_path(BELLADONNA_JXL_BUTTERAUGLI_H jxl/butteraugli.h HINTS ${JXL_INCLUDE_DIRS})
  endif()
  if(JXL_FOUND AND BELLADONNA_JXL_BUTTERAUGLI_H)
    set(BELLADONNA_HAVE_BUTTERAUGLI ON)
    target_link_libraries(belladonna PRIVATE PkgConfig::JXL)
    target_compile_definitions(belladonna PRIVATE BD_HAVE_BUTTERAUGLI)
  else()
    message(WARNING "libjxl with jxl/butteraugli.h not found (Debian: libjxl-dev 0.7): "
                    "visibility will be reported as not measured")
  endif()
endif()
