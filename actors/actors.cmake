# actors/: the actor core around the store.
add_library(booking_actors STATIC
  ${CMAKE_CURRENT_LIST_DIR}/store_pool.cpp ${CMAKE_CURRENT_LIST_DIR}/user_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/user_directory.cpp ${CMAKE_CURRENT_LIST_DIR}/location_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/invalidator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/core.cpp ${CMAKE_CURRENT_LIST_DIR}/published_pages.cpp)
target_link_libraries(booking_actors PUBLIC booking_model booking_telemetry caf::core)
