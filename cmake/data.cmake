# Data files installed with the program: share/belladonna/clip/ holds OpenAI's CLIP BPE
# vocabulary (MIT, its LICENSE beside it), the tokenizer's default when a checkpoint brings
# none. The library finds them relative to itself (encoders/text/data_files.cpp), so the build
# tree mirrors the installed layout: build/lib/libbelladonna.so -> build/share/belladonna.
set(BELLADONNA_DATA_FILES
  ${CMAKE_SOURCE_DIR}/data/clip/bpe_simple_vocab_16e6.txt.gz
  ${CMAKE_SOURCE_DIR}/data/clip/LICENSE)
set(BELLADONNA_DATA_SUBDIR "${CMAKE_INSTALL_DATADIR}/belladonna")

foreach(_file ${BELLADONNA_DATA_FILES})
  get_filename_component(_name ${_file} NAME)
  # COPYONLY re-copies when the source changes and reconfigures on edits.
  configure_file(${_file} ${CMAKE_BINARY_DIR}/share/belladonna/clip/${_name} COPYONLY)
endforeach()
install(FILES ${BELLADONNA_DATA_FILES}
  DESTINATION ${BELLADONNA_DATA_SUBDIR}/clip COMPONENT runtime)

# From the installed library's folder to the installed data folder (lib -> ../share/belladonna,
# lib/x86_64-linux-gnu -> ../../share/belladonna).
file(RELATIVE_PATH _lib_to_data "/prefix/${CMAKE_INSTALL_LIBDIR}" "/prefix/${BELLADONNA_DATA_SUBDIR}")
# On the one file that uses it, so the other objects of the library do not rebuild.
set_source_files_properties(${CMAKE_SOURCE_DIR}/encoders/text/data_files.cpp TARGET_DIRECTORY belladonna
  PROPERTIES COMPILE_DEFINITIONS "BELLADONNA_LIB_TO_DATA=\"${_lib_to_data}\"")
target_link_libraries(belladonna PRIVATE ${CMAKE_DL_LIBS})
