booking_test(e2e_api_tests test_main.cpp e2e_api_test.cpp)
target_link_libraries(e2e_api_tests PRIVATE booking_http)
target_compile_definitions(e2e_api_tests PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
add_dependencies(e2e_api_tests booking-server)

booking_test(e2e_stress_tests test_main.cpp e2e_stress_test.cpp)
target_link_libraries(e2e_stress_tests PRIVATE booking_http)
target_compile_definitions(e2e_stress_tests PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
add_dependencies(e2e_stress_tests booking-server)

booking_test(e2e_observability_tests test_main.cpp e2e_observability_test.cpp)
target_link_libraries(e2e_observability_tests PRIVATE booking_http)
target_compile_definitions(e2e_observability_tests PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
add_dependencies(e2e_observability_tests booking-server)

booking_test(e2e_reliability_tests test_main.cpp e2e_reliability_test.cpp)
target_link_libraries(e2e_reliability_tests PRIVATE booking_http)
target_compile_definitions(e2e_reliability_tests PRIVATE BOOKING_SERVER_PATH="$<TARGET_FILE:booking-server>")
add_dependencies(e2e_reliability_tests booking-server)

# Slowloris, idle sockets and a header flood at 10x a 32-thread pool, alone and behind nginx.
add_test(NAME hostile_clients
  COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/hostile-clients --pool 32 --seconds 8 --check)
set_tests_properties(hostile_clients PROPERTIES
  ENVIRONMENT "BUILD_DIR=${PROJECT_BINARY_DIR}" SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
