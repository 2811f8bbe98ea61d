# The batch command (issue 5): unit tests of listing/naming/report without a model, and
# end-to-end tests that run the real `belladonna` on a portfolio made at test time.
bd_add_test(test_batch_listing LABELS unit TIMEOUT 60
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_batch_listing.cpp)
bd_add_test(test_batch_report LABELS unit TIMEOUT 60
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_batch_report.cpp
            LIBS nlohmann_json::nlohmann_json)
# Needs the CLI binary; the tiny model and portfolio are made at test time.
if(TARGET belladonna-cli)
  bd_add_test(test_e2e_protect LABELS e2e TIMEOUT 300
              SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_e2e_protect.cpp
              LIBS nlohmann_json::nlohmann_json ZLIB::ZLIB)
  add_dependencies(test_e2e_protect belladonna-cli)
  bd_add_test(test_e2e_targets LABELS e2e TIMEOUT 300
              SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_e2e_targets.cpp LIBS nlohmann_json::nlohmann_json)
  add_dependencies(test_e2e_targets belladonna-cli)
  bd_add_test(test_e2e_vae LABELS e2e TIMEOUT 300
              SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_e2e_vae.cpp LIBS nlohmann_json::nlohmann_json)
  add_dependencies(test_e2e_vae belladonna-cli)
  bd_add_test(test_e2e_determinism LABELS e2e TIMEOUT 600
              SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_e2e_determinism.cpp)
  add_dependencies(test_e2e_determinism belladonna-cli)
  add_test(NAME cli.runtime_env COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_runtime_env.sh
                                         $<TARGET_FILE:belladonna-cli> --help)
  set_tests_properties(cli.runtime_env PROPERTIES LABELS unit TIMEOUT 60)
endif()
