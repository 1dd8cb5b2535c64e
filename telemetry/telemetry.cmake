# telemetry/: tracing (W3C context, sampler, spans, OTLP encoding and export), metrics, the logger.
# Depends on nothing of ours.
add_library(booking_telemetry STATIC
  ${CMAKE_CURRENT_LIST_DIR}/trace_context.cpp ${CMAKE_CURRENT_LIST_DIR}/child_span.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tracer.cpp ${CMAKE_CURRENT_LIST_DIR}/otlp_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/otlp_exporter.cpp ${CMAKE_CURRENT_LIST_DIR}/metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/striped.cpp ${CMAKE_CURRENT_LIST_DIR}/span_ring.cpp
  ${CMAKE_CURRENT_LIST_DIR}/process_metrics.cpp ${CMAKE_CURRENT_LIST_DIR}/log.cpp)
target_include_directories(booking_telemetry PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(booking_telemetry PRIVATE BOOKING_VERSION="${PROJECT_VERSION}")
target_link_libraries(booking_telemetry PUBLIC prometheus-cpp::core nlohmann_json::nlohmann_json
  PkgConfig::HTTPLIB Threads::Threads)
