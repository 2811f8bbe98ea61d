# CPack pre-build script (cmake/package.cmake): removes the RPATH/RUNPATH of every ELF file
# staged for the Debian package.
file(GLOB_RECURSE _staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(_file ${_staged})
  if(IS_SYMLINK "${_file}")
    continue()
  endif()
  file(READ "${_file}" _magic LIMIT 4 HEX)
  if(_magic STREQUAL "7f454c46")
    file(RPATH_REMOVE FILE "${_file}")
  endif()
endforeach()
