# CPack settings for the Debian package: `cpack -G DEB` in a release build directory.
# Everything `cmake --install` installs goes into one package, under /usr (plus
# /etc/mpiod/mpiod.yaml, a conffile). Included from cmake/install.cmake.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mpiod)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "mpiod")
set(CPACK_PACKAGE_CONTACT "mpiod maintainers <mpiod@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "userspace multipath I/O daemon")
set(CPACK_PACKAGE_DESCRIPTION
    "mpiod opens every path to a storage LU (NBD servers today) as an asynchronous
transport, merges the paths that lead to the same LU by WWID, and re-exports each LU as
one NBD Unix socket, optionally as /dev/nbdX or a FUSE file on a loop device. I/O moves
off a failing path in milliseconds. mpiod-ctl shows and changes its state.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Release builds carry debug info; the package does not need it.
set(CPACK_STRIP_FILES TRUE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies (libnbd0, libspdlog1.10, libyaml-cpp0.7, libfuse3-3, ...) come from
# dpkg-shlibdeps on the binaries, with the versions they were built against.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Path servers and tools to try it with; none is needed to run mpiod.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nbdkit, libnbd-bin, nbd-client, fio")

# Maintainer scripts and the conffile list (dpkg keeps the operator's edits of those).
set(MPIOD_DEBIAN_DIR ${CMAKE_CURRENT_LIST_DIR}/debian)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MPIOD_DEBIAN_DIR}/conffiles ${MPIOD_DEBIAN_DIR}/postinst ${MPIOD_DEBIAN_DIR}/prerm
    ${MPIOD_DEBIAN_DIR}/postrm)
# Scripts 0755, conffiles 0644, whatever the source tree's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
