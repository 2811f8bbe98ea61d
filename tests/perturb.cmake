# The optimizer (issue 4): pure tensor properties without a model, then the optimizer's
# effect on a tiny generated CLIP.
bd_add_test(test_perturb_unit LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/perturb/test_budget.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_mask.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_diff_jpeg.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_metrics.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_settings.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_step_rule.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_visibility.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_objective.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_resample.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_views.cpp)
bd_add_test(test_perturb_model LABELS model TIMEOUT 900
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/perturb/test_optimizer.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_protector.cpp
          ${CMAKE_CURRENT_LIST_DIR}/perturb/test_ensemble.cpp)
bd_add_test(test_perturb_gpu LABELS gpu
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/perturb/test_gpu.cpp)
