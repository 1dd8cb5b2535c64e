# http/: routes, guard, the actor client and store leases, the executables' main.
# The connection loop alone (no actors): booking-server's listener, also used by the benchmark ceiling.
add_library(booking_edge_io STATIC ${CMAKE_CURRENT_LIST_DIR}/connection.cpp ${CMAKE_CURRENT_LIST_DIR}/target.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_pool.cpp)
target_include_directories(booking_edge_io PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(booking_edge_io PUBLIC booking_telemetry PkgConfig::HTTPLIB Threads::Threads)

add_library(booking_http STATIC
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp ${CMAKE_CURRENT_LIST_DIR}/guard.cpp ${CMAKE_CURRENT_LIST_DIR}/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/edge.cpp ${CMAKE_CURRENT_LIST_DIR}/route_table.cpp
  ${CMAKE_CURRENT_LIST_DIR}/middleware.cpp ${CMAKE_CURRENT_LIST_DIR}/principal.cpp ${CMAKE_CURRENT_LIST_DIR}/api_routes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/admin_routes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ops_routes.cpp ${CMAKE_CURRENT_LIST_DIR}/auth.cpp ${CMAKE_CURRENT_LIST_DIR}/actor_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_leases.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/options.cpp ${CMAKE_CURRENT_LIST_DIR}/idempotency.cpp ${CMAKE_CURRENT_LIST_DIR}/rate_limit.cpp ${CMAKE_CURRENT_LIST_DIR}/maintenance.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_span.cpp)
target_link_libraries(booking_http PUBLIC booking_actors booking_edge_io PkgConfig::HTTPLIB)

add_executable(booking-server ${CMAKE_CURRENT_LIST_DIR}/server_main.cpp)
target_link_libraries(booking-server PRIVATE booking_http)

# Benchmark-only executables: the bare cpp-httplib ceiling, the open-loop latency runner and the
# store-only limit of the cold path.
add_executable(booking-ceiling ${CMAKE_CURRENT_LIST_DIR}/ceiling_main.cpp)
target_link_libraries(booking-ceiling PRIVATE booking_edge_io PkgConfig::HTTPLIB Threads::Threads)
target_include_directories(booking-ceiling PRIVATE ${PROJECT_SOURCE_DIR})
add_executable(booking-open-loop ${PROJECT_SOURCE_DIR}/scripts/load/open_loop.cpp)
target_link_libraries(booking-open-loop PRIVATE Threads::Threads)
target_include_directories(booking-open-loop PRIVATE ${PROJECT_SOURCE_DIR})
add_executable(booking-store-bench ${CMAKE_CURRENT_LIST_DIR}/store_bench_main.cpp)
target_link_libraries(booking-store-bench PRIVATE booking_model)
target_include_directories(booking-store-bench PRIVATE ${PROJECT_SOURCE_DIR})
