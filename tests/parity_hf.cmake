# Parity of the Hugging Face CLIP loader with transformers' CLIPModel (issue 3).
bd_add_test(test_clip_parity_hf LABELS model SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_clip_parity_hf.cpp)
