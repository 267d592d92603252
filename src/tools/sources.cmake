# Command-line tools: each folder under src/tools has a tool.cmake.
file(GLOB RS_TOOL_CMAKES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/tools/*/tool.cmake)
foreach(f ${RS_TOOL_CMAKES})
  include(${f})
endforeach()
