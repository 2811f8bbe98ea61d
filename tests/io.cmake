# Image I/O tests (issue 2): codecs, atomic writes, tensor conversions, and a bounded
# mutation smoke run of the fuzz targets. Fixtures are made at run time in a temporary folder.
bd_add_test(test_png_io LABELS unit TIMEOUT 120
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_png_io.cpp LIBS PNG::PNG ZLIB::ZLIB)
bd_add_test(test_jpeg_io LABELS unit TIMEOUT 120
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_jpeg_io.cpp LIBS JPEG::JPEG)
bd_add_test(test_atomic_file LABELS unit TIMEOUT 60
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_atomic_file.cpp)
bd_add_test(test_allocator LABELS unit TIMEOUT 60
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_allocator.cpp)
bd_add_test(test_runtime_env LABELS unit TIMEOUT 60
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_runtime_env.cpp)
bd_add_test(test_tensor_image LABELS unit TIMEOUT 120
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tensor_image.cpp)

# The fuzz entry points, driven by a deterministic mutator (no clang needed).
bd_add_test(test_fuzz_smoke LABELS unit TIMEOUT 180
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_smoke.cpp ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_png.cpp
          ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_jpeg.cpp
  LIBS ZLIB::ZLIB)
target_compile_definitions(test_fuzz_smoke PRIVATE BD_FUZZ_SMOKE)

# Coverage-guided libFuzzer targets. They compile the codec sources directly (no libtorch),
# so they need only a clang compiler: scripts/fuzz.sh builds and runs them without CMake.
if(BELLADONNA_BUILD_FUZZ)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(_codec ${CMAKE_SOURCE_DIR}/src/image.cpp ${CMAKE_SOURCE_DIR}/src/image_io.cpp
        ${CMAKE_SOURCE_DIR}/src/png_io.cpp ${CMAKE_SOURCE_DIR}/src/jpeg_io.cpp
        ${CMAKE_SOURCE_DIR}/src/exif.cpp ${CMAKE_SOURCE_DIR}/src/atomic_file.cpp)
    foreach(_f png jpeg)
      add_executable(fuzz_${_f} ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_${_f}.cpp ${_codec})
      target_include_directories(fuzz_${_f} PRIVATE ${CMAKE_SOURCE_DIR})
      target_compile_options(fuzz_${_f} PRIVATE -fsanitize=fuzzer,address,undefined -g)
      target_link_options(fuzz_${_f} PRIVATE -fsanitize=fuzzer,address,undefined)
      target_link_libraries(fuzz_${_f} PRIVATE PNG::PNG JPEG::JPEG ZLIB::ZLIB)
      # New corpus entries go to the first folder (in the build tree); samples/ only seeds.
      file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz_corpus_${_f})
      add_test(NAME fuzz_${_f}_30s COMMAND fuzz_${_f} -max_total_time=30 -rss_limit_mb=2048
               ${CMAKE_CURRENT_BINARY_DIR}/fuzz_corpus_${_f} ${CMAKE_SOURCE_DIR}/samples)
      set_tests_properties(fuzz_${_f}_30s PROPERTIES LABELS fuzz TIMEOUT 120)
    endforeach()
  else()
    message(WARNING "BELLADONNA_BUILD_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++); "
                    "scripts/fuzz.sh builds the targets with clang on its own.")
  endif()
endif()
