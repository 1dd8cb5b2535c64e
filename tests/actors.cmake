booking_test(actor_tests test_main.cpp actors_test.cpp tracing_test.cpp)
target_link_libraries(actor_tests PRIVATE booking_actors)
