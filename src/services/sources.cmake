# The order system's services: one folder each, built on libdapr (never on the
# sidecar's code, so they run unchanged next to the real daprd).
# common/ holds the few helpers every service shares (logging, environment).
add_library(rs_service_common STATIC ${CMAKE_SOURCE_DIR}/src/services/common/svc.c)
target_include_directories(rs_service_common PUBLIC ${CMAKE_SOURCE_DIR}/src/services/common)
target_link_libraries(rs_service_common PUBLIC dapr)

file(GLOB RS_SERVICE_CMAKES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/services/*/service.cmake)
foreach(f ${RS_SERVICE_CMAKES})
  include(${f})
endforeach()
