# End-to-end suites: each starts real booking-server processes.
function(booking_e2e_test name source)
  booking_test(${name} ${source})
  target_link_libraries(${name} PRIVATE booking_http)
  target_compile_definitions(${name} PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
  add_dependencies(${name} booking-server)
endfunction()

booking_e2e_test(e2e_api_tests e2e_api_test.cpp)
booking_e2e_test(e2e_stress_tests e2e_stress_test.cpp)
booking_e2e_test(e2e_observability_tests e2e_observability_test.cpp)
booking_e2e_test(e2e_reliability_tests e2e_reliability_test.cpp)
booking_e2e_test(e2e_edge_tests e2e_edge_test.cpp)
booking_e2e_test(e2e_admin_tests e2e_admin_test.cpp)
target_compile_definitions(e2e_admin_tests PRIVATE BOOKING_ADMIN_TOKEN_PATH="$<TARGET_FILE:booking-admin-token>")
add_dependencies(e2e_admin_tests booking-admin-token)

# Slowloris, idle sockets and a header flood at 10x a 32-thread pool, alone and behind nginx. It
# mostly waits (its attackers hold sockets open), so it runs beside the other suites.
add_test(NAME hostile_clients
  COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/hostile-clients --pool 32 --seconds 8 --check)
set_tests_properties(hostile_clients PROPERTIES
  ENVIRONMENT "BUILD_DIR=${PROJECT_BINARY_DIR}" SKIP_RETURN_CODE 77 TIMEOUT 300)
booking_e2e_test(e2e_waitlist_tests e2e_waitlist_test.cpp)

# SPEC §8's waitlist storm at a small scale: invariants 1, 10, 11 and every promoted member's next page.
add_test(NAME waitlist_storm COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/waitlist-storm --sessions 10 --clients 16)
set_tests_properties(waitlist_storm PROPERTIES ENVIRONMENT "BUILD_DIR=${PROJECT_BINARY_DIR}" TIMEOUT 300)
booking_e2e_test(e2e_telemetry_tests e2e_telemetry_test.cpp)
target_compile_definitions(e2e_telemetry_tests PRIVATE BOOKING_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# The framing fuzzer against a live server: generated requests over raw sockets, every answer
# checked for exact framing, its own JSON body and no token of the database; alone and behind the
# shipped nginx configuration. A long run: scripts/framing-fuzz --requests 200000 --seconds 600.
add_test(NAME framing_fuzz
  COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/framing-fuzz --requests 4000 --seconds 60 --seed 1 --check)
add_test(NAME framing_fuzz_nginx
  COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/framing-fuzz --requests 3000 --seconds 60 --seed 2 --nginx --check)
set_tests_properties(framing_fuzz framing_fuzz_nginx PROPERTIES
  ENVIRONMENT "BUILD_DIR=${PROJECT_BINARY_DIR}" TIMEOUT 300)

# The authenticator in-process (lookup coalescing, revocation, failures), beside the admin routes'
# revocation tests.
target_sources(e2e_admin_tests PRIVATE auth_test.cpp)
target_sources(e2e_reliability_tests PRIVATE store_writer_test.cpp)
