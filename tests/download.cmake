# Model registry and downloads (src/registry, src/download), against a local HTTP server
# (tests/util/http_server.py run with /usr/bin/python3).
bd_add_test(test_registry LABELS unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_registry.cpp TIMEOUT 60
            LIBS nlohmann_json::nlohmann_json)
bd_add_test(test_download LABELS unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_download.cpp TIMEOUT 120)

# Concept list (unit) and concept embeddings / zero-shot on a tiny generated CLIP (model).
bd_add_test(test_concepts LABELS model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_concepts.cpp TIMEOUT 120)
# The concept table's disk cache (src/concept_cache).
bd_add_test(test_concept_cache LABELS model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_concept_cache.cpp TIMEOUT 120)

# The embed / classify / concepts / models subcommands, run as the real binary.
if(TARGET belladonna-cli)
  bd_add_test(test_cli_embed LABELS e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_embed.cpp
              LIBS nlohmann_json::nlohmann_json TIMEOUT 300)
  add_dependencies(test_cli_embed belladonna-cli)
endif()
