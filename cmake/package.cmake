# The Debian package: `cpack -G DEB` in the release build (scripts/package.sh runs it and
# lintian). One package, belladonna_VERSION_ARCH.deb, installed under /usr: the CLI, the
# shared library with its C header, CMake and pkg-config files, the vocabulary, the desktop
# app with its .desktop entry and icons, the GIMP plug-in in GIMP's system folder, the Krita
# plug-in, the man pages and the docs. libtorch and every other library come from Debian's
# packages: dpkg-shlibdeps computes the dependencies from the binaries.
set(BELLADONNA_PACKAGE_MAINTAINER "belladonna developers <belladonna@example.org>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME belladonna)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${BELLADONNA_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "protect artwork against generative-model training")
set(CPACK_PACKAGE_DESCRIPTION
"belladonna adds a small, bounded pixel change to an image, computed with
gradients through the image encoders generative models are trained with
(CLIP, Stable Diffusion's VAE), so that a model trained on a scraped copy
learns the wrong concept (poison) or not the image's own content and style
(cloak), while a person sees no change. Every protected image gets honest
metrics: how visible the change is (butteraugli) and what survives JPEG,
resizing and the cheap clean-ups used against such protections.
.
This package holds the belladonna command line tool, the belladonna-gui
desktop app, the libbelladonna C library and header, and plug-ins for GIMP
and Krita. Models are downloaded on first use or given as files.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libbelladonna is a public library: its shlibs file lets other packages depend on it, and
# the ldconfig trigger refreshes the loader's cache when it is installed or removed.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/deb/triggers)
# libtorch runs several times slower on the reference BLAS that satisfies its dependency.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp")
# The Krita plug-in runs inside Krita's Python, which needs PyQt5.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gimp, krita, python3-pyqt5")
set(CPACK_STRIP_FILES ON)
# One package from the components a system install wants; the user-folder GIMP plug-in
# ("gimp") stays out, GIMP's system folder ("gimp-system") goes in.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified runtime dev gimp-system krita debian)
# The install RPATH points at CMAKE_INSTALL_PREFIX's library folder, which a source install
# needs; the package's library is in /usr/lib, where the loader looks anyway, and Debian
# forbids the RPATH, so it is removed from the staged files.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb/remove_rpath.cmake)
set(CPACK_POST_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb/drop_ldconfig_scripts.cmake)

# Debian wants a copyright file and a compressed changelog in the package's doc folder.
find_program(BELLADONNA_GZIP gzip)
if(BELLADONNA_GZIP)
  set(_changelog ${CMAKE_BINARY_DIR}/deb/changelog.gz)
  add_custom_command(OUTPUT ${_changelog}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/deb
    COMMAND ${BELLADONNA_GZIP} -9n -c ${CMAKE_CURRENT_LIST_DIR}/deb/changelog > ${_changelog}
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/deb/changelog)
  add_custom_target(deb-changelog ALL DEPENDS ${_changelog})
  install(FILES ${_changelog} ${CMAKE_CURRENT_LIST_DIR}/deb/copyright
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${CPACK_PACKAGE_NAME} COMPONENT debian EXCLUDE_FROM_ALL)
endif()

include(CPack)
