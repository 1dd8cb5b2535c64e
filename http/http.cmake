# http/: routes, guard, bridge, the executables' main.
add_library(booking_http STATIC
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp ${CMAKE_CURRENT_LIST_DIR}/guard.cpp ${CMAKE_CURRENT_LIST_DIR}/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/routes.cpp ${CMAKE_CURRENT_LIST_DIR}/auth.cpp ${CMAKE_CURRENT_LIST_DIR}/bridge.cpp
  ${CMAKE_CURRENT_LIST_DIR}/options.cpp ${CMAKE_CURRENT_LIST_DIR}/idempotency.cpp)
target_link_libraries(booking_http PUBLIC booking_actors PkgConfig::HTTPLIB)

add_executable(booking-server ${CMAKE_CURRENT_LIST_DIR}/server_main.cpp)
target_link_libraries(booking-server PRIVATE booking_http)
