# CPack post-build script (cmake/package.cmake): CPack 3.25 writes postinst and postrm
# scripts that call ldconfig whenever a library lands in /usr/lib. The package's ldconfig
# trigger (cmake/deb/triggers) already does that, and a postrm makes dpkg keep the package
# in "config-files" state after `apt-get remove` (its postrm stays for a later purge), so
# removal would leave files behind. Rebuilds each .deb without the two scripts.
find_program(_dpkg_deb dpkg-deb REQUIRED)
foreach(_deb ${CPACK_PACKAGE_FILES})
  set(_tree "${CPACK_TEMPORARY_DIRECTORY}/without-ldconfig-scripts")
  file(REMOVE_RECURSE "${_tree}")
  execute_process(COMMAND ${_dpkg_deb} --raw-extract "${_deb}" "${_tree}" COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE "${_tree}/DEBIAN/postinst" "${_tree}/DEBIAN/postrm")
  execute_process(COMMAND ${_dpkg_deb} --root-owner-group -Zxz --build "${_tree}" "${_deb}"
                  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE_RECURSE "${_tree}")
endforeach()
