# The daemon's control socket (server side of mpiod-ctl). Included from daemon/CMakeLists.txt.
add_library(mpiod_control STATIC
  ${CMAKE_CURRENT_LIST_DIR}/control_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/status_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_writer.cpp
)
target_link_libraries(mpiod_control
  PUBLIC mpiod_core nlohmann_json::nlohmann_json Boost::headers
  PRIVATE spdlog::spdlog)
