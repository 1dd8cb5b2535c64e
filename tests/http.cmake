# End-to-end suites: each starts real booking-server processes.
function(booking_e2e_test name source)
  booking_test(${name} test_main.cpp ${source})
  target_link_libraries(${name} PRIVATE booking_http)
  target_compile_definitions(${name} PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
  add_dependencies(${name} booking-server)
endfunction()

booking_e2e_test(e2e_api_tests e2e_api_test.cpp)
booking_e2e_test(e2e_stress_tests e2e_stress_test.cpp)
booking_e2e_test(e2e_observability_tests e2e_observability_test.cpp)
booking_e2e_test(e2e_reliability_tests e2e_reliability_test.cpp)
booking_e2e_test(e2e_admin_tests e2e_admin_test.cpp)

# Slowloris, idle sockets and a header flood at 10x a 32-thread pool, alone and behind nginx.
add_test(NAME hostile_clients
  COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/hostile-clients --pool 32 --seconds 8 --check)
set_tests_properties(hostile_clients PROPERTIES
  ENVIRONMENT "BUILD_DIR=${PROJECT_BINARY_DIR}" SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
