# Encoders: native CLIP, checkpoint formats, tokenizer, preprocessing (issue 3).

add_executable(bd-make-tiny-model ${CMAKE_CURRENT_SOURCE_DIR}/tools/make_tiny_model.cpp)
target_link_libraries(bd-make-tiny-model PRIVATE bd_testutil belladonna)

bd_add_test(test_safetensors LABELS unit SOURCES test_safetensors.cpp)
bd_add_test(test_tokenizer LABELS unit SOURCES test_tokenizer.cpp)
bd_add_test(test_clip_preprocess LABELS unit SOURCES test_clip_preprocess.cpp)
bd_add_test(test_clip_formats LABELS model SOURCES test_clip_formats.cpp)
bd_add_test(test_mobilenet_encoder LABELS model SOURCES test_mobilenet_encoder.cpp)
bd_add_test(test_clip_parity LABELS model SOURCES test_clip_parity.cpp)
bd_add_test(test_installed_vocab LABELS model SOURCES test_installed_vocab.cpp)
