# What `cmake --install` puts where, beyond the binaries (daemon/ and ctl/ install those to
# <prefix>/sbin and <prefix>/bin): man pages, bash completion, example configurations and
# the default configuration. The systemd unit and tmpfiles entry are in systemd/. Included
# once from the top-level CMakeLists.txt; ends by including the CPack settings.

add_subdirectory(man)

install(FILES ${PROJECT_SOURCE_DIR}/ctl/mpiod-ctl.bash-completion
        DESTINATION share/bash-completion/completions RENAME mpiod-ctl)

file(GLOB MPIOD_EXAMPLE_CONFIGS ${PROJECT_SOURCE_DIR}/config/examples/*.yaml)
install(FILES ${MPIOD_EXAMPLE_CONFIGS} DESTINATION share/doc/mpiod/examples)

# The default configuration is /etc/mpiod/mpiod.yaml whatever the prefix: that is where
# mpiod and its unit look. It is a conffile in the .deb; `cmake --install` never replaces
# one that is already there (it may hold the operator's paths).
set(MPIOD_DEFAULT_CONFIG ${PROJECT_SOURCE_DIR}/config/examples/two-nbd-paths-failover.yaml)
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}/etc/mpiod/mpiod.yaml\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}/etc/mpiod/mpiod.yaml (already there)\")
  else()
    file(INSTALL DESTINATION /etc/mpiod TYPE FILE RENAME mpiod.yaml
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${MPIOD_DEFAULT_CONFIG}\")
  endif()
")

include(${CMAKE_CURRENT_LIST_DIR}/package.cmake)
