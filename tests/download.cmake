# Model registry and downloads (src/registry, src/download), against a local HTTP server
# (tests/util/http_server.py run with /usr/bin/python3).
bd_add_test(test_registry LABELS unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_registry.cpp TIMEOUT 60)
bd_add_test(test_download LABELS unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_download.cpp TIMEOUT 120)
