# Encoders: native CLIP, checkpoint formats, tokenizer, preprocessing (issue 3).
# The test helpers find the shared CLIP vocabulary beside the source tree even when
# BD_SOURCE_DIR is not set (bd-make-tiny-model run by hand).
target_compile_definitions(bd_testutil PRIVATE BD_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")

add_executable(bd-make-tiny-model ${CMAKE_CURRENT_SOURCE_DIR}/tools/make_tiny_model.cpp)
target_link_libraries(bd-make-tiny-model PRIVATE bd_testutil belladonna)

foreach(_t IN ITEMS test_safetensors test_tokenizer test_clip_preprocess)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_t}.cpp)
    bd_add_test(${_t} LABELS unit SOURCES ${_t}.cpp)
  endif()
endforeach()
foreach(_t IN ITEMS test_clip_formats test_clip_parity)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_t}.cpp)
    bd_add_test(${_t} LABELS model SOURCES ${_t}.cpp)
  endif()
endforeach()
