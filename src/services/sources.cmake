# The order system's services: one folder (or file) each, built on libdapr.
file(GLOB RS_SERVICE_CMAKES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/services/*/service.cmake)
foreach(f ${RS_SERVICE_CMAKES})
  include(${f})
endforeach()
