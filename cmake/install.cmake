# Symbol visibility, install rules and package files for libbelladonna.
# Included from the top-level CMakeLists after the belladonna target and its sources exist:
#   include(cmake/install.cmake)
include(CMakePackageConfigHelpers)

target_compile_definitions(belladonna PRIVATE BELLADONNA_VERSION_STRING="${PROJECT_VERSION}")

# Only bd_* (the C API) and bd:: (the C++ API of CLI, GUI and tests) leave the library;
# see cmake/belladonna.map. GNU ld and lld both read version scripts.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_link_options(belladonna PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/belladonna.map")
  set_property(TARGET belladonna APPEND PROPERTY LINK_DEPENDS
    "${CMAKE_CURRENT_LIST_DIR}/belladonna.map")
endif()

set(BELLADONNA_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/belladonna")

install(TARGETS belladonna
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
# The C header is the only installed header: hosts use the C API.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../include/belladonna.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

# CMake package: find_package(belladonna) -> belladonna::belladonna, the library plus the C
# header. Written by hand rather than install(EXPORT): the build target links libtorch
# PUBLIC for the project's own C++ clients, but hosts of the C API must not need libtorch's
# CMake package to find ours.
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/belladonnaConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/belladonnaConfig.cmake INSTALL_DESTINATION ${BELLADONNA_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/belladonnaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/belladonnaConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/belladonnaConfigVersion.cmake
  DESTINATION ${BELLADONNA_CMAKE_DIR} COMPONENT dev)

# pkg-config: `pkg-config --cflags --libs belladonna`.
file(RELATIVE_PATH BELLADONNA_PC_TO_PREFIX
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" BELLADONNA_PC_TO_PREFIX "${BELLADONNA_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/belladonna.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/belladonna.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/belladonna.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The documents a user or a host's developer reads without the source tree.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../README.md ${CMAKE_CURRENT_LIST_DIR}/../docs/ARCHITECTURE.md
              ${CMAKE_CURRENT_LIST_DIR}/../docs/INSTALL.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
