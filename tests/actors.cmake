booking_test(actor_tests actors_test.cpp tracing_test.cpp metrics_test.cpp)
target_link_libraries(actor_tests PRIVATE booking_actors)
