# The C API (include/belladonna.h) and the GIMP plug-in.
set(_bd_make_tiny_model ${CMAKE_BINARY_DIR}/bin/bd-make-tiny-model)

# test-c: the header compiled as strict C99 and every function of the C API exercised against
# a tiny model made by bd-make-tiny-model. Linked against the library file only, so that no
# C++/libtorch flags reach the C compiler: exactly what a C host sees.
add_executable(test-c ${CMAKE_CURRENT_SOURCE_DIR}/test-c.c)
target_include_directories(test-c PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(test-c PRIVATE $<TARGET_FILE:belladonna> m)
add_dependencies(test-c belladonna)
set_target_properties(test-c PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF
  BUILD_RPATH "$<TARGET_FILE_DIR:belladonna>")
target_compile_options(test-c PRIVATE -Wall -Wextra -pedantic-errors)
if(BELLADONNA_HAVE_BUTTERAUGLI)
  target_compile_definitions(test-c PRIVATE BD_TEST_HAVE_BUTTERAUGLI)
endif()
# bd-make-tiny-model may be defined by an area file included after this one.
function(_bd_capi_model_deps)
  if(TARGET bd-make-tiny-model)
    add_dependencies(test-c bd-make-tiny-model)
    if(TARGET bd-make-tiny-vae)
      add_dependencies(test-c bd-make-tiny-vae)
    endif()
    if(TARGET bd-gimp-check)
      add_dependencies(bd-gimp-check bd-make-tiny-model)
    endif()
  endif()
endfunction()
cmake_language(DEFER CALL _bd_capi_model_deps)
add_test(NAME capi.c COMMAND test-c ${_bd_make_tiny_model} ${CMAKE_BINARY_DIR}/bin/bd-make-tiny-vae)
set_tests_properties(capi.c PROPERTIES LABELS "unit;model" TIMEOUT 300)

# The same header must also compile as C++ (hosts written in C++ include it directly).
add_library(bd_capi_cxx_check OBJECT ${CMAKE_CURRENT_SOURCE_DIR}/test-c-header.cpp)
target_include_directories(bd_capi_cxx_check PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_dependencies(test-c bd_capi_cxx_check)

if(TARGET plug-in-belladonna)
  add_test(NAME gimp.runtime_env
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_runtime_env.sh $<TARGET_FILE:plug-in-belladonna>)
  set_tests_properties(gimp.runtime_env PROPERTIES LABELS unit TIMEOUT 60)
  add_executable(bd-gimp-check ${CMAKE_CURRENT_SOURCE_DIR}/gimp/gimp_check.cpp)
  target_link_libraries(bd-gimp-check PRIVATE belladonna)
  find_program(BELLADONNA_GIMP_EXECUTABLE NAMES gimp-2.10 gimp)
  if(BELLADONNA_GIMP_EXECUTABLE)
    add_test(NAME gimp.batch_protect
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/gimp/run_gimp_test.sh
              $<TARGET_FILE:plug-in-belladonna> ${_bd_make_tiny_model} $<TARGET_FILE:bd-gimp-check> cat)
    set_tests_properties(gimp.batch_protect PROPERTIES LABELS "gimp;model" TIMEOUT 180
      ENVIRONMENT "GIMP=${BELLADONNA_GIMP_EXECUTABLE}")
  endif()
endif()

# Symbol visibility: only bd_* and bd:: leave the shared library.
add_test(NAME capi.exports
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_exports.sh $<TARGET_FILE:belladonna>
          ${PROJECT_SOURCE_DIR}/include/belladonna.h)
set_tests_properties(capi.exports PROPERTIES LABELS unit TIMEOUT 60)
