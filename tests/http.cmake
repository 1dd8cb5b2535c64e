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
