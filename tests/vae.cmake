# Stable Diffusion VAE encoder: formats, name mapping, parity with diffusers (issue 13).

add_executable(bd-make-tiny-vae ${CMAKE_CURRENT_SOURCE_DIR}/tools/make_tiny_vae.cpp)
target_link_libraries(bd-make-tiny-vae PRIVATE bd_testutil belladonna)

bd_add_test(test_vae_formats LABELS model SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_vae_formats.cpp)
bd_add_test(test_vae_parity LABELS model SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_vae_parity.cpp)
bd_add_test(test_chunked_attention LABELS model SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_chunked_attention.cpp)

# Needs the CLI binary.
if(TARGET belladonna-cli)
  bd_add_test(test_cli_embed_vae LABELS e2e TIMEOUT 120
              SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_cli_embed_vae.cpp LIBS nlohmann_json::nlohmann_json)
  add_dependencies(test_cli_embed_vae belladonna-cli)
endif()
