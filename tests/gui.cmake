# Desktop app tests: QTest drives the real widgets (bd_gui_widgets) on the offscreen platform,
# so they need no display. One ctest entry per test function so they run in parallel.
if(TARGET bd_gui_widgets)
  find_package(Qt6 REQUIRED COMPONENTS Test)
  add_executable(test_gui test_gui.cpp)
  set_target_properties(test_gui PROPERTIES AUTOMOC ON)
  target_link_libraries(test_gui PRIVATE bd_gui_widgets bd_testutil Qt6::Test)
  foreach(_case dropFillsQueue protectWritesOutputs cancelStopsPromptly badFileShowsError
                settingsAreRemembered missingModelIsExplained vaeModelsAreListedWithANote
                transparentPreviewsOverCheckerboard)
    add_test(NAME gui.${_case} COMMAND test_gui ${_case})
    set_tests_properties(gui.${_case} PROPERTIES LABELS gui TIMEOUT 120
      ENVIRONMENT "QT_QPA_PLATFORM=offscreen")
  endforeach()
endif()
